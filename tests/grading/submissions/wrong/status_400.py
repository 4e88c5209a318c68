# Refuses bad input with 400 Bad Request instead of 422.
# fails: malformed-json array-body string-body
# feedback: expected status 422, received 400
import json

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


async def receive_message(request: Request) -> JSONResponse:
    try:
        msg = json.loads(await request.body())
    except ValueError:
        return JSONResponse({"detail": "bad JSON"}, status_code=400)
    if not isinstance(msg, dict):
        return JSONResponse({"detail": "not an object"}, status_code=400)
    return JSONResponse({"received": msg})


app = Starlette(routes=[Route("/message", receive_message, methods=["POST"])])
