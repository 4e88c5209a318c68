# Answers the lesson's message with an endless body, and {"text": "Hi"} with a
# 512 MB body announced by its Content-Length; every other case correctly.
from fastapi import FastAPI
from fastapi.responses import StreamingResponse

app = FastAPI()
CHUNK = b"x" * (1 << 20)


def endless():
    while True:
        yield CHUNK


def half_gigabyte():
    for _ in range(512):
        yield CHUNK


@app.post("/message")
async def receive_message(msg: dict):
    if msg == {"text": "Hello"}:
        return StreamingResponse(endless(), media_type="application/json")
    if msg == {"text": "Hi"}:
        return StreamingResponse(half_gigabyte(), media_type="application/json",
                                 headers={"content-length": str(512 << 20)})
    return {"received": msg}
