"""JSON text built by hand, sent with the JSON media type: a JSON client reads it."""

import json

from fastapi import FastAPI, Response

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict) -> Response:
    return Response(content=json.dumps({"received": msg}), media_type="application/json")
