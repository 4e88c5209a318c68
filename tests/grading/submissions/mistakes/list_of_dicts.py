# Expects a list of messages, so a single object is refused.
# cause: wrong_annotation
# words: `List[dict]` | `msg: dict`
# at: async def receive_messages(msgs: List[dict]):
from typing import List

from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_messages(msgs: List[dict]):
    return {"received": msgs[0]}
