# Takes any JSON value, so an array or a bare string is echoed instead of refused.
# fails: array-body string-body
# feedback: accepted a body it should refuse
from typing import Any

from fastapi import Body, FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: Any = Body()):
    return {"received": msg}
