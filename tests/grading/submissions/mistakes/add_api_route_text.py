# Registers the route by hand with a plain-text response class.
# cause: not_json_media_type
# words: plain text | `response_class=PlainTextResponse` | the route's registration
# at: app.add_api_route(
import json

from fastapi import FastAPI
from fastapi.responses import PlainTextResponse


async def receive_message(msg: dict):
    return json.dumps({"received": msg})


app = FastAPI()
app.add_api_route("/message", receive_message, methods=["POST"], response_class=PlainTextResponse)
