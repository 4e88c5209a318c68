# Writes the JSON by hand into a plain Response, which then says nothing about its type.
# cause: not_json_media_type
# words: Content-Type | media_type
# at: return Response(json.dumps({"received": msg}))
# fix: return {"received": msg}
from fastapi import FastAPI
from fastapi import Response
import json
app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    return Response(json.dumps({"received": msg}))
