# Cuts long texts to 280 characters, like a tweet.
# cause: changed
# words: changed | `[:280]`
# at: msg["text"] = msg["text"][:280]
from fastapi import FastAPI

app = FastAPI()
MAX_LEN = 280


@app.post("/message")
async def receive_message(msg: dict):
    if "text" in msg:
        msg["text"] = msg["text"][:280]
    return {"received": msg}
