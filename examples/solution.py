"""A reference solution of the message-echo exercise."""

from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    return {"received": msg}
