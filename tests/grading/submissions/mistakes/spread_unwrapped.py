# Copies the message with ** and forgets the wrapper.
# cause: not_wrapped
# words: not wrapped | "received"
# at: return {**msg}
# fix: return {"received": {**msg}}
from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    return {**msg}
