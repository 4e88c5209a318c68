# Reads the raw body without await, then decodes it: a coroutine has no decode.
# cause: json_not_awaited
# words: await | `request.body()`
# at: raw = request.body()
import json

from fastapi import FastAPI, Request

app = FastAPI()


@app.post("/message")
async def receive_message(request: Request):
    raw = request.body()
    return {"received": json.loads(raw.decode())}
