# Calls request.json() from a plain def: it can never be awaited there.
# cause: json_not_awaited
# words: await | `async def`
# at: return {"received": request.json()}
from fastapi import FastAPI, Request

app = FastAPI()


@app.post("/message")
def receive_message(request: Request):
    return {"received": request.json()}
