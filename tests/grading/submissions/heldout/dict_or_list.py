# Lets the message be a dict or a list "to accept any JSON": FastAPI cannot read a body of that type and refuses the route while the file loads.
# cause: wrong_annotation
# words: `msg: dict`
# at: async def receive_message(msg: dict | list):
# fix: async def receive_message(msg: dict):
from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict | list):
    return {"received": msg}
