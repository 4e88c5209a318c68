# Logs the text of every message, but not every message has one.
# cause: crash
# words: KeyError | 'text'
# at: print("new message:", msg["text"])
# fix: print("new message:", msg.get("text"))
from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    print("new message:", msg["text"])
    return {"received": msg}
