# Makes sure every message has a "text" by putting an empty one into the messages that lack it.
# cause: added_fields
# words: "text"
# at: msg.setdefault("text", "")
from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    msg.setdefault("text", "")
    return {"received": msg}
