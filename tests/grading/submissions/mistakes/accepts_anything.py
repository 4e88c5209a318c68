# Takes any JSON value, so arrays and strings are echoed instead of refused.
# cause: accepts_non_objects
# words: 422 | `msg: dict`
# at: async def receive_message(msg: Any = Body()):
from typing import Any

from fastapi import Body, FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: Any = Body()):
    return {"received": msg}
