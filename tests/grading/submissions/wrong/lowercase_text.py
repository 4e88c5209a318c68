# Lowercases the "text" field.
# fails: hello hi extra-fields unicode long-text
# feedback: expected "Hello", received "hello"
from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    if isinstance(msg.get("text"), str):
        msg = {**msg, "text": msg["text"].lower()}
    return {"received": msg}
