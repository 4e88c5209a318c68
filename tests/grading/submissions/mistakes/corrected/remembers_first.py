from fastapi import FastAPI

app = FastAPI()
_first: dict = {}


@app.post("/message")
async def receive_message(msg: dict):
    if not _first:
        _first["msg"] = msg
    return {"received": msg}
