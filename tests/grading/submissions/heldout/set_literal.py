# A comma where the colon goes: {"received", msg} is a set, and a dict cannot go in a set.
# cause: set_literal
# words: TypeError | colon
# at: return {"received", msg}
# fix: return {"received": msg}
from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    return {"received", msg}
