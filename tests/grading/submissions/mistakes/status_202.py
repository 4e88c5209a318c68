# Answers 202 Accepted, since the message was "accepted".
# cause: wrong_status
# words: 202 | `status_code=202`
# at: @app.post("/message", status_code=202)
# fix: @app.post("/message")
from fastapi import FastAPI

app = FastAPI()


@app.post("/message", status_code=202)
async def receive_message(msg: dict):
    return {"received": msg}
