# Puts the reply in a list.
# cause: wrong_type
# words: JSON array | JSON object
# at: return [{"received": msg}]
# fix: return {"received": msg}
from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    return [{"received": msg}]
