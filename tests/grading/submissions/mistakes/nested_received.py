# Writes the wrapper twice in one literal.
# cause: double_wrapped
# words: twice
# at: return {"received": {"received": msg}}
# fix: return {"received": msg}
from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    return {"received": {"received": msg}}
