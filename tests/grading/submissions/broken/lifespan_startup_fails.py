# error: crash exit
# message: lifespan
# message: cannot reach the cache
from contextlib import asynccontextmanager

from fastapi import FastAPI


@asynccontextmanager
async def lifespan(app):
    raise ConnectionError("cannot reach the cache")
    yield


app = FastAPI(lifespan=lifespan)


@app.post("/message")
async def receive_message(msg: dict):
    return {"received": msg}
