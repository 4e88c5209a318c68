# Builds the reply and forgets to return it.
# cause: null_body
# words: returns nothing | `return
# at: async def receive_message
from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    {"received": msg}
