# A response_model whose inner model only knows `text`: every other field is dropped on the way out.
# cause: response_model
# words: `response_model=Reply` | `text` | on the way out
# never: lost before that line
# at: @app.post("/message", response_model=Reply)
# fix: @app.post("/message")
from fastapi import FastAPI
from pydantic import BaseModel


class Message(BaseModel):
    text: str = ""


class Reply(BaseModel):
    received: Message


app = FastAPI()


@app.post("/message", response_model=Reply)
async def receive_message(msg: dict):
    return {"received": msg}
