# Builds a JSONResponse but overrides its media type with plain text.
# cause: not_json_media_type
# words: text/plain | application/json
# at: return JSONResponse(
from fastapi import FastAPI
from fastapi.responses import JSONResponse

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    reply = {"received": msg}
    return JSONResponse(reply, media_type="text/plain")
