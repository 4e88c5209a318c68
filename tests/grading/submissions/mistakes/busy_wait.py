# Waits for a "ready" flag nothing ever sets, in a loop inside the endpoint.
# limits: quick
# cause: blocking_call
# words: `while not ready` | never
# at: while not ready:
from fastapi import FastAPI

app = FastAPI()
ready = False


@app.post("/message")
async def receive_message(msg: dict):
    while not ready:
        pass
    return {"received": msg}
