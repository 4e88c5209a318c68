# Puts the message in a list under "received".
# cause: wrong_type
# words: `[msg]` | list
# at: return {"received": [msg]}
# fix: return {"received": msg}
from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    return {"received": [msg]}
