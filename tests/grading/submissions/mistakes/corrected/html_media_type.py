import json

from fastapi import FastAPI, Response

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    return Response(content=json.dumps({"received": msg}), media_type="application/json")
