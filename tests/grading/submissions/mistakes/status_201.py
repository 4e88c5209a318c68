# Answers 201 Created.
# cause: wrong_status
# words: 201 | `status_code=201`
# at: @app.post("/message", status_code=201)
from fastapi import FastAPI

app = FastAPI()


@app.post("/message", status_code=201)
async def receive_message(msg: dict):
    return {"received": msg}
