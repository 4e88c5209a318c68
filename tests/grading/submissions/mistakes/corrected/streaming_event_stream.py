import json

from fastapi import FastAPI
from fastapi.responses import StreamingResponse

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    text = json.dumps({"received": msg})
    return StreamingResponse(iter([text]), media_type="application/json")
