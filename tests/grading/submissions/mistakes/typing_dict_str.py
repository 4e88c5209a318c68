# Annotates the message as Dict[str, str]: numbers, booleans, null and nested values are refused.
# cause: wrong_annotation
# words: `Dict[str, str]` | `msg: dict`
# at: async def receive_message(msg: Dict[str, str]):
# fix: async def receive_message(msg: dict):
from typing import Dict

from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: Dict[str, str]):
    return {"received": msg}
