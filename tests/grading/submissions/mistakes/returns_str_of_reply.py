# Builds the right reply, then returns str() of it: the client gets Python's text of the dict as one JSON string.
# cause: wrong_type
# words: `str(...)` turns the reply into text | `return reply`
# at: return str(reply)
# fix: return reply
from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    reply = {"received": msg}
    return str(reply)
