# Writes a better endpoint under the first attempt instead of replacing it: the first one still answers.
# cause: duplicate_route
# words: two | `/message`
# at: @app.post("/message")
from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    return {"message": msg}


# v2 - fixed the key
@app.post("/message")
async def receive_message(msg: dict):
    return {"received": msg}
