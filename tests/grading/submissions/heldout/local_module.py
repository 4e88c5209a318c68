# Imports its models from a second file of the project that was not uploaded.
# error: import
# cause: local_module
# words: `schemas` | one file
# at: from schemas import Message
from fastapi import FastAPI

from schemas import Message

app = FastAPI()


@app.post("/message")
async def receive_message(msg: Message):
    return {"received": msg}
