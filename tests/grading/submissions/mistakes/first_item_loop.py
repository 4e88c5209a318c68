# Loops over the items and returns on the first pass: one field comes back, and null for an empty message.
# cause: null_body
# words: loop | first pass | `return {"received": msg}`
# at: for key, value in msg.items():
# fix: return {"received": msg}
from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    for key, value in msg.items():
        return {"received": {key: value}}
