"""The lesson's own answer: an async FastAPI handler taking a dict."""

from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    return {"received": msg}
