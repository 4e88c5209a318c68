# A Starlette Response told it carries plain text.
# cause: not_json_media_type
# words: plain text | `media_type="text/plain"` | `media_type="application/json"`
# at: return Response(
import json

from fastapi import FastAPI
from starlette.responses import Response

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    body = json.dumps({"received": msg})
    return Response(body, media_type="text/plain")
