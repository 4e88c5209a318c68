# Remembers the first message and answers it forever after.
# fails: hi extra-fields every-json-type unicode empty-object long-text random-1 random-2 random-3
# feedback: the response body differs
from fastapi import FastAPI

app = FastAPI()
_first: dict = {}


@app.post("/message")
async def receive_message(msg: dict):
    if not _first:
        _first["msg"] = msg
    return {"received": _first["msg"]}
