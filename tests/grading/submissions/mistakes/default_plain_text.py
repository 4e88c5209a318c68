# Makes plain text the default response class of the whole app.
# cause: response_class
# words: PlainTextResponse | `default_response_class`
# at: app = FastAPI(default_response_class=PlainTextResponse)
# fix: app = FastAPI()
from fastapi import FastAPI
from fastapi.responses import PlainTextResponse

app = FastAPI(default_response_class=PlainTextResponse)


@app.post("/message")
async def receive_message(msg: dict):
    return {"received": msg}
