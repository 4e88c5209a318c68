# Pretends to do slow work with time.sleep inside an async endpoint: the whole server stops.
# limits: quick
# cause: blocking_call
# words: time.sleep | async def
# at: time.sleep(
import time

from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    time.sleep(30)  # simulate processing
    return {"received": msg}
