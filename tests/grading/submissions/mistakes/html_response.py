# Sends the JSON text in an HTMLResponse.
# cause: not_json_media_type
# words: web page | `HTMLResponse` | text/html
# at: return HTMLResponse(
import json

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

app = FastAPI()


@app.post("/message")
def receive_message(msg: dict):
    reply = {"received": msg}
    return HTMLResponse(json.dumps(reply))
