# Caches replies by their text, so a later message with the same text gets the old reply.
# cause: kept_state
# words: `cache` | between requests
# at: return cache[key]
from fastapi import FastAPI

app = FastAPI()
cache = {}


@app.post("/message")
async def receive_message(msg: dict):
    key = msg.get("text")
    if key in cache:
        return cache[key]
    cache[key] = {"received": msg}
    return cache[key]
