# A pydantic model whose only field is `message`: the grader's messages have `text`, so all are refused.
# cause: model_fields
# words: pydantic | `msg: dict`
# at: class Message(BaseModel):
from fastapi import FastAPI
from pydantic import BaseModel

app = FastAPI()


class Message(BaseModel):
    message: str


@app.post("/message")
async def receive_message(msg: Message):
    return {"received": msg}
