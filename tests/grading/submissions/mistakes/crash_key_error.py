# Reads a field most messages do not have.
# cause: crash
# words: KeyError | 'sender' | 500
# at: reply["sender"] = msg["sender"]
from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    reply = dict(msg)
    reply["sender"] = msg["sender"]
    return {"received": msg}
