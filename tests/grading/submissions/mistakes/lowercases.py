# Changes the text on the way back.
# cause: changed
# words: changed | "Hello" | "hello"
# at: .lower()
from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    if isinstance(msg.get("text"), str):
        msg["text"] = msg["text"].lower()
    return {"received": msg}
