# Remembers the first message and answers it forever after.
# cause: same_answer
# words: does not follow the request
# at: return {"received": _first["msg"]}
from fastapi import FastAPI

app = FastAPI()
_first: dict = {}


@app.post("/message")
async def receive_message(msg: dict):
    if not _first:
        _first["msg"] = msg
    return {"received": _first["msg"]}
