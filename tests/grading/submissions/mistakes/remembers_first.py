# Remembers the first message and answers it forever after.
# cause: kept_state
# words: does not follow the request | `_first`
# at: return {"received": _first["msg"]}
from fastapi import FastAPI

app = FastAPI()
_first: dict = {}


@app.post("/message")
async def receive_message(msg: dict):
    if not _first:
        _first["msg"] = msg
    return {"received": _first["msg"]}
