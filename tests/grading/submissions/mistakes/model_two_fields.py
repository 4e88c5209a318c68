# A model that requires a sender: messages without one are refused, extra fields dropped.
# cause: model_fields
# words: pydantic | `sender`
# at: class ChatMessage(BaseModel):
from fastapi import FastAPI
from pydantic import BaseModel


class ChatMessage(BaseModel):
    text: str
    sender: str


app = FastAPI()


@app.post("/message")
def post_message(message: ChatMessage):
    return {"received": message}
