# Adds a field of its own to the message.
# fails: hello hi extra-fields every-json-type unicode empty-object long-text random-1 random-2 random-3
# feedback: unexpected key "seen"
from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    msg["seen"] = True
    return {"received": msg}
