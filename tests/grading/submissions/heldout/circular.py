# Stores the message inside itself under "received" and returns it: a loop JSON cannot write.
# cause: key_added_to_message
# words: `{"received": msg}`
# at: msg["received"] = msg
# fix: return {"received": msg}
from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    msg["received"] = msg
    return msg
