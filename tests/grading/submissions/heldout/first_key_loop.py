# Returns on the first pass of a loop over the keys: one field comes back, and nothing for an empty message.
# cause: null_body
# words: loop | `return`
# at: for key in msg:
# fix: return {"received": msg}
from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    for key in msg:
        return {"received": {key: msg[key]}}
