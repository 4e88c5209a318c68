# Copies the message key by key, capitalising each key with .title() on the way.
# cause: changed_keys
# words: `key.title()` | `key`
# at: reply[key.title()] = value
# fix: reply[key] = value
from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    reply = {}
    for key, value in msg.items():
        reply[key.title()] = value
    return {"received": reply}
