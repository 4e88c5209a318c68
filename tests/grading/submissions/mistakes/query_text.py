# Takes `text: str`, which FastAPI reads from the query string, and rebuilds the message from it.
# cause: query_parameter
# words: query | `msg: dict`
# at: async def receive_message(text: str):
from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(text: str):
    return {"received": {"text": text}}
