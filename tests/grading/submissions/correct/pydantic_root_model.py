"""A pydantic RootModel over a dict: any JSON object validates, nothing else does."""

from typing import Any

from fastapi import FastAPI
from pydantic import RootModel


class Message(RootModel[dict[str, Any]]):
    pass


class Reply(RootModel[dict[str, Any]]):
    pass


app = FastAPI()


@app.post("/message")
def receive_message(msg: Message) -> dict:
    return {"received": msg.root}
