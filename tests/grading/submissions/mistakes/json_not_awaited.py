# Calls request.json() without await.
# cause: json_not_awaited
# words: await | `request.json()`
# at: data = request.json()
from fastapi import FastAPI, Request

app = FastAPI()


@app.post("/message")
async def receive_message(request: Request):
    data = request.json()
    return {"received": data}
