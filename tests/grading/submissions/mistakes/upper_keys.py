# Shouts every key with .upper(): "text" comes back as "TEXT".
# cause: changed_keys
# words: `k.upper()` | key
# at: return {"received": {k.upper(): v for k, v in msg.items()}}
# fix: return {"received": msg}
from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    return {"received": {k.upper(): v for k, v in msg.items()}}
