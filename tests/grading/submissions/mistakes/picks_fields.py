# Builds a new object from the one field it knows about.
# cause: dropped_fields
# words: whole message
# at: return {"received": {"text"
from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    return {"received": {"text": msg.get("text")}}
