# Sends list(msg), the message's keys, instead of the message.
# cause: sorted_items
# words: list | `{"received": msg}`
# at: return {"received": list(msg)}
# fix: return {"received": msg}
from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    return {"received": list(msg)}
