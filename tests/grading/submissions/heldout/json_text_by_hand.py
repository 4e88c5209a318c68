# Writes the JSON text of the reply by hand, so FastAPI sends one JSON string.
# cause: string_reply
# words: string
# at: return '{"received": ' + json.dumps(msg) + "}"
# fix: return {"received": msg}
import json

from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    return '{"received": ' + json.dumps(msg) + "}"
