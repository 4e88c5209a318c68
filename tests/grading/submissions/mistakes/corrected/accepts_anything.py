from typing import Any

from fastapi import Body, FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict = Body()):
    return {"received": msg}
