# Sets response_class=PlainTextResponse and returns a dict: the response cannot encode it.
# cause: response_class
# words: PlainTextResponse | response_class
# at: @app.post("/message", response_class=PlainTextResponse)
# fix: @app.post("/message")
from fastapi import FastAPI
from fastapi.responses import PlainTextResponse

app = FastAPI()


@app.post("/message", response_class=PlainTextResponse)
async def receive_message(msg: dict):
    return {"received": msg}
