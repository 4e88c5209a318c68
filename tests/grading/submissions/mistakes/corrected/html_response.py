import json

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

app = FastAPI()


@app.post("/message")
def receive_message(msg: dict):
    reply = {"received": msg}
    return reply
