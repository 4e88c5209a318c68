"""A correct answer that takes two seconds to load, so that gradings started together overlap."""

import time

from fastapi import FastAPI

time.sleep(2)
app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    return {"received": msg}
