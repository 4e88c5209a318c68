# A bare Response with no media type: the reply carries no Content-Type at all.
# cause: not_json_media_type
# words: does not say it is JSON | no `Content-Type` | `Response`
# at: return Response(
import json

from fastapi import FastAPI, Response

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    return Response(json.dumps({"received": msg}))
