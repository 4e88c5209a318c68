# Calls .json() on the message as on a requests response: it is already a dict.
# cause: crash
# words: AttributeError | `msg` is already the message
# at: data = msg.json()
# fix: data = msg
from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    data = msg.json()
    return {"received": data}
