# A model with an optional text: objects pass, but every other field is dropped and text: null is added.
# cause: model_fields
# words: pydantic | `msg: dict`
# at: class Msg(BaseModel):
from typing import Optional

from fastapi import FastAPI
from pydantic import BaseModel

app = FastAPI()


class Msg(BaseModel):
    text: Optional[str] = None


@app.post("/message")
async def receive_message(msg: Msg):
    return {"received": msg.dict()}
