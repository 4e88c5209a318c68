# Spins the CPU forever in the handler for the lesson's message; answers the rest.
from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
def receive_message(msg: dict):
    if msg == {"text": "Hello"}:
        while True:
            pass
    return {"received": msg}
