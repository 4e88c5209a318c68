# Streams the JSON text as server-sent events.
# cause: not_json_media_type
# words: text/event-stream | `media_type="text/event-stream"`
# at: return StreamingResponse(
import json

from fastapi import FastAPI
from fastapi.responses import StreamingResponse

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    text = json.dumps({"received": msg})
    return StreamingResponse(iter([text]), media_type="text/event-stream")
