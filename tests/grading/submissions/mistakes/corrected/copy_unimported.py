import copy

from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    return {"received": copy.deepcopy(msg)}
