# response_model=List[dict] for a reply that is one object.
# cause: response_model
# words: response_model | `response_model=List[dict]`
# at: @app.post("/message", response_model=List[dict])
# fix: @app.post("/message")
from typing import List

from fastapi import FastAPI

app = FastAPI()


@app.post("/message", response_model=List[dict])
async def receive_message(msg: dict):
    return {"received": msg}
