# A pydantic model with only `text`: other fields are dropped, objects without text refused.
# cause: model_fields
# words: pydantic | `msg: dict`
# at: class Message(BaseModel):
from fastapi import FastAPI
from pydantic import BaseModel


class Message(BaseModel):
    text: str


app = FastAPI()


@app.post("/message")
async def receive_message(msg: Message):
    return {"received": msg.model_dump()}
