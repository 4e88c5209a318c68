# Builds the JSON text by hand and labels it as a web page.
# cause: not_json_media_type
# words: web page | `media_type="text/html"` | `media_type="application/json"`
# at: return Response(
import json

from fastapi import FastAPI, Response

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    return Response(content=json.dumps({"received": msg}), media_type="text/html")
