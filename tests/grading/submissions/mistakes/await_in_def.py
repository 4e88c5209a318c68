# Awaits an async helper inside an endpoint written with a plain def: Python refuses to read the file.
# error: syntax
# cause: syntax
# words: async def
# at: def receive_message(msg: dict):
# fix: async def receive_message(msg: dict):
from fastapi import FastAPI

app = FastAPI()


async def log_message(msg):
    print("got", msg)


@app.post("/message")
def receive_message(msg: dict):
    await log_message(msg)
    return {"received": msg}
