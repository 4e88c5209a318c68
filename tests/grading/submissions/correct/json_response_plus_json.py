"""A JSONResponse under a vendor media type with the +json suffix: still JSON to a client."""

from fastapi import FastAPI
from fastapi.responses import JSONResponse

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict) -> JSONResponse:
    return JSONResponse({"received": msg}, media_type="application/vnd.echo+json")
