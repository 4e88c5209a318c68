# Declares a model with one field, text: extra fields are dropped, objects without text refused.
# fails: extra-fields every-json-type unicode empty-object random-1 random-2 random-3
# feedback: the request was refused as invalid
from fastapi import FastAPI
from pydantic import BaseModel


class Message(BaseModel):
    text: str


app = FastAPI()


@app.post("/message")
async def receive_message(msg: Message):
    return {"received": msg.model_dump()}
