import json

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route


async def receive_message(request: Request):
    try:
        msg = json.loads(await request.body())
    except ValueError:
        return JSONResponse({"detail": "malformed JSON"}, status_code=422)
    if not isinstance(msg, dict):
        return JSONResponse({"detail": "not an object"}, status_code=422)
    return JSONResponse({"received": msg})


app = Starlette(routes=[Route("/message", receive_message, methods=["POST"])])
