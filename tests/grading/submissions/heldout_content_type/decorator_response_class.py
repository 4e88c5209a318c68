# Encodes the reply itself and tells FastAPI the answer is a web page.
# cause: not_json_media_type
# words: HTMLResponse | application/json
# at: @app.post("/message", response_class=HTMLResponse)
import json

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

app = FastAPI()


@app.post("/message", response_class=HTMLResponse)
async def receive_message(msg: dict):
    return json.dumps({"received": msg})
