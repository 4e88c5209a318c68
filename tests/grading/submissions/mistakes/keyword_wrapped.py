# Builds the reply with dict() and wraps the message once more under "message" on the line before.
# cause: double_wrapped
# words: "message" | `{"received": msg}`
# at: inner = dict(message=msg)
from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    inner = dict(message=msg)
    return dict(received=inner)
