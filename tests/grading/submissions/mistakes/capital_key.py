# The key starts with a capital letter.
# cause: misspelt_key
# words: `Received` | `received`
# at: return {"Received": msg}
from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    return {"Received": msg}
