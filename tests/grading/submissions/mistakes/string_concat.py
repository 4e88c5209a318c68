# Builds a sentence with + and str().
# cause: string_reply
# words: string | `return {"received": msg}`
# at: return "received: " + str(msg)
# fix: return {"received": msg}
from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    return "received: " + str(msg)
