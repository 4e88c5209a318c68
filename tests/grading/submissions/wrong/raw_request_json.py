# Reads the raw body with request.json(): broken JSON crashes, arrays and strings pass through.
# fails: malformed-json array-body string-body
# feedback: raised an exception
from fastapi import FastAPI, Request

app = FastAPI()


@app.post("/message")
async def receive_message(request: Request):
    return {"received": await request.json()}
