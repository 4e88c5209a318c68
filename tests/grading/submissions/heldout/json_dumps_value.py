# Turns the message into JSON text before putting it in the reply.
# cause: json_dumps_value
# words: json.dumps | string
# at: payload = json.dumps(msg)
# fix: payload = msg
import json

from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    payload = json.dumps(msg)
    return {"received": payload}
