# Turns every value into text.
# cause: coerced
# words: type | do not convert
# at: return {"received": {key: str(value)
from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    return {"received": {key: str(value) for key, value in msg.items()}}
