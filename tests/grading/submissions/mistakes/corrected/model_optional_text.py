from typing import Optional

from fastapi import FastAPI
from pydantic import BaseModel

app = FastAPI()


class Msg(BaseModel):
    text: Optional[str] = None


@app.post("/message")
async def receive_message(msg: dict):
    return {"received": msg}
