# Puts the endpoint under /api, as bigger projects do.
# cause: wrong_path
# words: /api/message | "/message"
# at: @app.post("/api/message")
# fix: @app.post("/message")
from fastapi import FastAPI

app = FastAPI(title="Messages API")


@app.post("/api/message")
async def receive_message(msg: dict):
    return {"received": msg}
