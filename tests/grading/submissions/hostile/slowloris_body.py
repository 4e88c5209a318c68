# Answers the lesson's message one byte every half second, forever; every other case correctly.
import asyncio

from fastapi import FastAPI
from fastapi.responses import StreamingResponse

app = FastAPI()


async def trickle():
    yield b'{"received": '
    while True:
        await asyncio.sleep(0.5)
        yield b" "


@app.post("/message")
async def receive_message(msg: dict):
    if msg == {"text": "Hello"}:
        return StreamingResponse(trickle(), media_type="application/json")
    return {"received": msg}
