# Returns only when there is a "text" field; every other message gets null.
# cause: null_body
# words: return
# at: if "text" in msg:
from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    if "text" in msg:
        return {"received": msg}
