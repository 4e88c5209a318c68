# Writes the lesson's answer out by hand: Hello passes, Hi fails.
# cause: same_answer
# words: by hand | `return {"received": msg}`
# at: return {"received": {"text": "Hello"}}
from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    return {"received": {"text": "Hello"}}
