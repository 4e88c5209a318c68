# Keeps the path in a constant at the top, misspelt as "/messages", so nothing answers POST /message.
# cause: wrong_path
# words: `/message`
# at: MESSAGE_PATH = "/messages"
# fix: MESSAGE_PATH = "/message"
from fastapi import FastAPI

MESSAGE_PATH = "/messages"

app = FastAPI()


@app.post(MESSAGE_PATH)
async def receive_message(msg: dict):
    return {"received": msg}
