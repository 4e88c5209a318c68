# Parses the message again with json.loads, though FastAPI has already made it a dict.
# cause: parsed_twice
# words: TypeError | `json.loads`
# at: data = json.loads(msg)
# fix: data = msg
import json

from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    data = json.loads(msg)
    return {"received": data}
