# Returns the Request itself, thinking FastAPI will send its contents.
# cause: returns_request
# words: Request | `msg: dict`
# at: return req
from fastapi import FastAPI, Request

app = FastAPI()


@app.post("/message")
async def receive_message(req: Request):
    return req
