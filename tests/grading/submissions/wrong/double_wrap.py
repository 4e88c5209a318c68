# Wraps the message twice.
# fails: hello hi extra-fields every-json-type unicode empty-object long-text random-1 random-2 random-3
# feedback: key "text" is missing
from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    return {"received": {"received": msg}}
