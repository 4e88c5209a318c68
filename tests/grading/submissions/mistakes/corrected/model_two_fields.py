from fastapi import FastAPI
from pydantic import BaseModel


class ChatMessage(BaseModel):
    text: str
    sender: str


app = FastAPI()


@app.post("/message")
def post_message(message: dict):
    return {"received": message}
