# Calls msg.item() for msg.items().
# cause: misspelt_name
# words: AttributeError | `items`
# at: for key, value in msg.item():
# fix: for key, value in msg.items():
from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    copy = {}
    for key, value in msg.item():
        copy[key] = value
    return {"received": copy}
