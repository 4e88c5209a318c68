# Turns the dict into text with str() and parses that as JSON: Python's quotes are not JSON's.
# cause: parsed_twice
# words: JSONDecodeError | `json.loads`
# at: parsed = json.loads(str(msg))
# fix: parsed = msg
import json

from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    parsed = json.loads(str(msg))
    return {"received": parsed}
