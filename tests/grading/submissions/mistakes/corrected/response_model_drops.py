from fastapi import FastAPI
from pydantic import BaseModel


class Message(BaseModel):
    text: str = ""


class Reply(BaseModel):
    received: Message


app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    return {"received": msg}
