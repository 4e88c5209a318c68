# Forgets the brackets of .copy, so the reply holds the method, not a copy.
# cause: method_not_called
# words: `msg.copy()` | brackets
# at: return {"received": msg.copy}
# fix: return {"received": msg.copy()}
from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    return {"received": msg.copy}
