# Starts the endpoint by setting the message to an empty dict, so every reply is {"received": {}}.
# cause: same_answer
# words: `msg = {}`
# at: msg = {}
from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    msg = {}
    return {"received": msg}
