from typing import Dict

from fastapi import FastAPI
from pydantic import BaseModel


class EchoReply(BaseModel):
    received: dict


app = FastAPI()


@app.post("/message", response_model=EchoReply)
async def receive_message(msg: dict):
    return {"received": msg}
