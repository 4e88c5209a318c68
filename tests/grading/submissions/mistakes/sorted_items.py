# Sorts the message's fields to make the reply tidy: sorted() gives a list of pairs.
# cause: sorted_items
# words: `sorted` | list
# at: return {"received": sorted(msg.items())}
# fix: return {"received": dict(sorted(msg.items()))}
from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    return {"received": sorted(msg.items())}
