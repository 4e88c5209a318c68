# Echoes only the "text" field (and crashes when there is none).
# fails: extra-fields every-json-type unicode empty-object random-1 random-2 random-3
# feedback: missing keys
from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    return {"received": {"text": msg["text"]}}
