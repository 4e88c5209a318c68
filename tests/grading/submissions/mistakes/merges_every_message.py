# Keeps one dict at module level and updates it with every message: fields of earlier requests come back.
# cause: kept_state
# words: `latest` | between requests
# at: latest.update(msg)
from fastapi import FastAPI

app = FastAPI()
latest = {}


@app.post("/message")
async def receive_message(msg: dict):
    latest.update(msg)
    return {"received": latest}
