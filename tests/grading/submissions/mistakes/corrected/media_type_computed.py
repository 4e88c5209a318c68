import json

from fastapi import FastAPI, Response

app = FastAPI()
KINDS = ["application", "json"]


@app.post("/message")
async def receive_message(msg: dict):
    return Response(json.dumps({"received": msg}), media_type="/".join(KINDS))
