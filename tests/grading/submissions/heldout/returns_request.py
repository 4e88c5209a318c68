# Takes the Request to "get everything" and sends the Request object back.
# cause: returns_request
# words: Request
# at: return {"received": request}
from fastapi import FastAPI, Request

app = FastAPI()


@app.post("/message")
async def receive_message(request: Request):
    return {"received": request}
