from dataclasses import dataclass

from fastapi import FastAPI

app = FastAPI()


@dataclass
class Message:
    text: str


@app.post("/message")
async def receive_message(msg: dict):
    return {"received": msg}
