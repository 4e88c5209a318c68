# Rounds every float to a whole number.
# cause: coerced
# words: float becomes integer
# at: return {"received": {k: round(v)
from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    return {"received": {k: round(v) if isinstance(v, float) else v for k, v in msg.items()}}
