# Defines its own response class with a media type that is not a JSON one.
# cause: not_json_media_type
# words: EchoResponse | text/json | application/json
# at: return EchoResponse(
import json

from starlette.responses import Response

from fastapi import FastAPI

app = FastAPI()


class EchoResponse(Response):
    media_type = "text/json"


@app.post("/message")
def receive_message(msg: dict):
    body = json.dumps({"received": msg})
    return EchoResponse(body)
