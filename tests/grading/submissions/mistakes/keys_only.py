# Sends back the keys of the message only.
# cause: sorted_items
# words: `keys()` | list
# at: return {"received": list(msg.keys())}
# fix: return {"received": msg}
from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    return {"received": list(msg.keys())}
