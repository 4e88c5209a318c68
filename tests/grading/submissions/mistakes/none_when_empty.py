# Returns None when the message is empty, since an empty dict counts as false.
# cause: null_body
# words: empty | `{}` | `return {"received": msg}`
# at: if msg else None
# fix: return {"received": msg}
from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    return {"received": msg} if msg else None
