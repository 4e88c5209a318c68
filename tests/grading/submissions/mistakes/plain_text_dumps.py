# Encodes the reply with json.dumps and sends it as plain text: it looks like JSON, but a JSON client refuses it.
# cause: not_json_media_type
# words: plain text | `PlainTextResponse` | application/json | `return {"received": msg}`
# at: return PlainTextResponse(
import json

from fastapi import FastAPI
from fastapi.responses import PlainTextResponse

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    return PlainTextResponse(json.dumps({"received": msg}))
