# Listens on /messages.
# cause: wrong_path
# words: /messages | "/message"
# at: @app.post("/messages")
from fastapi import FastAPI

app = FastAPI()


@app.post("/messages")
async def receive_message(msg: dict):
    return {"received": msg}
