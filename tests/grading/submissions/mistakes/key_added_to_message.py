# Adds a "received" key to the message itself and sends the message back.
# cause: key_added_to_message
# words: key added | `{"received": msg}` | delete line 13
# at: msg.update(
# never: never sent
from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    msg.update({"received": True})
    return msg
