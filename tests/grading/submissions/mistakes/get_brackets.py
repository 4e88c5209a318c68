# Square brackets after .get: a method is not a dict.
# cause: crash
# words: TypeError | `msg.get("text")`
# at: text = msg.get["text"]
# fix: text = msg.get("text")
from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    text = msg.get["text"]
    print(text)
    return {"received": msg}
