# Reads the message's field as an attribute, as if it were an object.
# cause: crash
# words: AttributeError | `["text"]`, not `.text`
# at: return {"received": {"text": msg.text}}
from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    return {"received": {"text": msg.text}}
