# Waits 6 seconds in an async endpoint with time.sleep "so the user sees a spinner".
# limits: quick
# cause: blocking_call
# words: `time.sleep` | `await asyncio.sleep`
# at: time.sleep(6)
import time
from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    time.sleep(6)
    return {"received": msg}
