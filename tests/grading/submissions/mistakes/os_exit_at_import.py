# Ends the program while loading.
# error: exit
# cause: exit
# words: ended before the server could start
# at: os._exit(0)
import os

from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    return {"received": msg}

os._exit(0)
