# response_model=Message describes the incoming message, not the reply: FastAPI refuses the reply.
# cause: response_model
# words: response_model | `response_model=Message`
# at: @app.post("/message", response_model=Message)
# fix: @app.post("/message")
from fastapi import FastAPI
from pydantic import BaseModel


class Message(BaseModel):
    text: str


app = FastAPI()


@app.post("/message", response_model=Message)
async def receive_message(msg: dict):
    return {"received": msg}
