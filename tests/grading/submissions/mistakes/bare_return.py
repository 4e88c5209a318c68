# Builds the reply in a variable and ends with a bare return.
# cause: null_body
# words: null | `return reply`
# at:     return
# fix: return reply
from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    reply = {"received": msg}
    print(reply)
    return
