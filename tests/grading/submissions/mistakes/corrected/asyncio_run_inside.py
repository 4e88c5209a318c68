import asyncio

from fastapi import FastAPI

app = FastAPI()


async def build_reply(msg):
    return {"received": msg}


@app.post("/message")
async def receive_message(msg: dict):
    reply = await build_reply(msg)
    return reply
