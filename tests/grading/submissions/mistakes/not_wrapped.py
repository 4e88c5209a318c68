# Sends the message back as it came, without the "received" wrapper.
# cause: not_wrapped
# words: not wrapped | "received"
# at: return msg
from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    return msg
