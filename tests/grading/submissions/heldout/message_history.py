# Keeps every message in a list at module level and sends the whole history back.
# cause: kept_state
# words: `messages` | between requests
# at: return {"received": messages}
# fix: return {"received": msg}
from fastapi import FastAPI

app = FastAPI()
messages = []


@app.post("/message")
async def receive_message(msg: dict):
    messages.append(msg)
    return {"received": messages}
