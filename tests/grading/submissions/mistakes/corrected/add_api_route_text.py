import json

from fastapi import FastAPI
from fastapi.responses import PlainTextResponse


async def receive_message(msg: dict):
    return {"received": msg}


app = FastAPI()
app.add_api_route("/message", receive_message, methods=["POST"])
