# The reply's closing brace is missing.
# error: syntax
# cause: syntax
# words: `{` | closed
# at: return {"received": msg
from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    return {"received": msg
