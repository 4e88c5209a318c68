import json

from fastapi import FastAPI
from starlette.responses import Response

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    body = json.dumps({"received": msg})
    return Response(body, media_type="application/json")
