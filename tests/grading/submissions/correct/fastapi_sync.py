"""A plain (sync) handler with a typed dict; FastAPI runs it in a thread pool."""

from typing import Any

from fastapi import FastAPI

app = FastAPI(title="Echo")


@app.post("/message")
def receive_message(msg: dict[str, Any]) -> dict[str, Any]:
    reply = {"received": msg}
    return reply
