# Puts `await` before a dict the endpoint has just built.
# cause: crash
# words: `await` | dict | `return reply`
# at: return await reply
# fix: return reply
from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    reply = {"received": msg}
    return await reply
