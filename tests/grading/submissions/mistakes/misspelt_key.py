# One letter swapped in the reply's key.
# cause: misspelt_key
# words: `recieved` | `received`
# at: return {"recieved": msg}
from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    return {"recieved": msg}
