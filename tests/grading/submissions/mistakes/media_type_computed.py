# The media type is computed while the server runs, so the file does not show it: no line is claimed.
# cause: not_json_media_type
# words: plain text | `Content-Type: text/plain; charset=utf-8` | application/json
# at: none
import json

from fastapi import FastAPI, Response

app = FastAPI()
KINDS = ["text", "plain"]


@app.post("/message")
async def receive_message(msg: dict):
    return Response(json.dumps({"received": msg}), media_type="/".join(KINDS))
