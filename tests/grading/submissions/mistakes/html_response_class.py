# response_class=HTMLResponse on an endpoint that returns a dict.
# cause: response_class
# words: HTMLResponse | `response_class`
# at: @app.post("/message", response_class=HTMLResponse)
# fix: @app.post("/message")
from fastapi import FastAPI
from fastapi.responses import HTMLResponse

app = FastAPI()


@app.post("/message", response_class=HTMLResponse)
async def receive_message(msg: dict):
    return {"received": msg}
