# Calls asyncio.run on an async helper from inside an async endpoint: the server's loop is already running.
# cause: crash
# words: RuntimeError | `await`
# at: reply = asyncio.run(build_reply(msg))
# fix: reply = await build_reply(msg)
import asyncio

from fastapi import FastAPI

app = FastAPI()


async def build_reply(msg):
    return {"received": msg}


@app.post("/message")
async def receive_message(msg: dict):
    reply = asyncio.run(build_reply(msg))
    return reply
