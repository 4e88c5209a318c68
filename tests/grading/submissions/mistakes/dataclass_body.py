# Declares the message as a dataclass with one field: other fields are dropped and messages without "text" refused.
# cause: model_fields
# words: dataclass `Message` | `text` | `msg: dict`
# fix: async def receive_message(msg: dict):
# at: class Message:
from dataclasses import dataclass

from fastapi import FastAPI

app = FastAPI()


@dataclass
class Message:
    text: str


@app.post("/message")
async def receive_message(msg: Message):
    return {"received": msg}
