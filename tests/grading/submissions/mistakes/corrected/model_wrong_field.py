from fastapi import FastAPI
from pydantic import BaseModel

app = FastAPI()


class Message(BaseModel):
    message: str


@app.post("/message")
async def receive_message(msg: dict):
    return {"received": msg}
