# Logs the first key of every message; the empty object has none.
# cause: crash
# words: IndexError | empty
# at: first = list(msg)[0]
from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    first = list(msg)[0]
    print("first field:", first)
    return {"received": msg}
