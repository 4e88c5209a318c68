# Answers a list holding the message.
# cause: wrong_type
# words: JSON array | JSON object
# at: return [msg]
from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    return [msg]
