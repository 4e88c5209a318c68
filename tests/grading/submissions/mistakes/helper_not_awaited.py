# Calls an async helper without await: the reply holds a coroutine.
# cause: coroutine_not_awaited
# words: await | `make_reply`
# at: return make_reply(msg)
# fix: return await make_reply(msg)
from fastapi import FastAPI

app = FastAPI()


async def make_reply(msg: dict) -> dict:
    return {"received": msg}


@app.post("/message")
async def receive_message(msg: dict):
    return make_reply(msg)
