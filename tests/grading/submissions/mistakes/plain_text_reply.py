# Answers plain text instead of JSON.
# cause: not_json
# words: not JSON | Return a dict
# at: return PlainTextResponse(
from fastapi import FastAPI
from fastapi.responses import PlainTextResponse

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    return PlainTextResponse(str({"received": msg}))
