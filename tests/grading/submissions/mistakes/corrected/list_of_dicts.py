from typing import List

from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_messages(msg: dict):
    return {"received": msg}
