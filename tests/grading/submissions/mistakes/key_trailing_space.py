# A space slipped in at the end of the key.
# cause: misspelt_key
# words: `received ` | `received`
# at: return {"received ": msg}
# fix: return {"received": msg}
from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    return {"received ": msg}
