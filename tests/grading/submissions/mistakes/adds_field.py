# Adds a field of its own.
# cause: added_fields
# words: "seen" | unchanged
# at: msg["seen"] = True
from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    msg["seen"] = True
    return {"received": msg}
