# Sends back the raw bytes of the body: FastAPI turns them into one string.
# cause: raw_body
# words: `await request.body()` | string
# at: data = await request.body()
from fastapi import FastAPI, Request

app = FastAPI()


@app.post("/message")
async def receive_message(request: Request):
    data = await request.body()
    return {"received": data}
