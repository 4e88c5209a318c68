# A reply model that says every value is a string: FastAPI refuses replies holding numbers or booleans.
# cause: response_model
# words: response_model | Dict[str, str]
# at:     received: Dict[str, str]
# fix:     received: dict
from typing import Dict

from fastapi import FastAPI
from pydantic import BaseModel


class EchoReply(BaseModel):
    received: Dict[str, str]


app = FastAPI()


@app.post("/message", response_model=EchoReply)
async def receive_message(msg: dict):
    return {"received": msg}
