# Asks for input while loading.
# error: import
# cause: input
# words: nobody can type | `input()`
# at: name = input(
from fastapi import FastAPI

app = FastAPI()
name = input("Your name: ")


@app.post("/message")
async def receive_message(msg: dict):
    return {"received": msg}
