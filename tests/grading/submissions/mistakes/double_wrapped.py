# Wraps the reply twice.
# cause: double_wrapped
# words: twice
# at: return {"received": reply}
from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    reply = {"received": msg}
    return {"received": reply}
