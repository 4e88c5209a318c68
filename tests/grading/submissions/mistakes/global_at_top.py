# Writes `global` at the top of the file, where it does nothing, instead of inside the endpoint.
# cause: missing_global
# words: UnboundLocalError | inside
# at: counter += 1
from fastapi import FastAPI

global counter
counter = 0
app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    counter += 1
    return {"received": msg}
