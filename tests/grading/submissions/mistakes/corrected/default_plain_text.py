from fastapi import FastAPI
from fastapi.responses import PlainTextResponse

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    return {"received": msg}
