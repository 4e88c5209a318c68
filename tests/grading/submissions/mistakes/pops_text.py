# Takes the text out of the message with pop() to log it, so the message sent back has lost its text.
# cause: dropped_fields
# words: `pop` | `msg.get("text", "")`
# never: lost before that line
# at: text = msg.pop("text", "")
# fix: text = msg.get("text", "")
from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    text = msg.pop("text", "")
    print("got:", text)
    return {"received": msg}
