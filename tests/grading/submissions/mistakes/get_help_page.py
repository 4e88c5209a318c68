# Adds a GET endpoint on the same path that explains how to use it, so GET /message answers 200 instead of 405.
# cause: method_allowed
# words: GET | Remove the endpoint `message_help`
# at: @app.get("/message")
from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    return {"received": msg}


@app.get("/message")
async def message_help():
    return {"info": "POST a JSON object to /message"}
