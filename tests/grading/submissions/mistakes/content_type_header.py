# Sets the Content-Type header by hand, to plain text.
# cause: not_json_media_type
# words: plain text | `Content-Type` header | "text/plain; charset=utf-8"
# at: headers={"Content-Type": "text/plain; charset=utf-8"}
import json

from fastapi import FastAPI, Response

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    return Response(
        content=json.dumps({"received": msg}),
        headers={"Content-Type": "text/plain; charset=utf-8"},
    )
