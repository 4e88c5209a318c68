# Parses the body itself with await request.json(): arrays and strings are echoed, broken JSON crashes.
# cause: accepts_non_objects
# words: 422 | `msg: dict`
# at: data = await request.json()
from fastapi import FastAPI, Request

app = FastAPI()


@app.post("/message")
async def receive_message(request: Request):
    data = await request.json()
    return {"received": data}
