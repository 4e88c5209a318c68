# Encodes the reply itself, so FastAPI sends a string.
# cause: json_string
# words: JSON string | `json.dumps`
# at: return json.dumps(
import json

from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    return json.dumps({"received": msg})
