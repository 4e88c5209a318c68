# Upper-cases the keys that are strings, in a comprehension whose key is a conditional expression.
# cause: changed_keys
# words: "TEXT" | "text" | never writes
# at: return {"received": {k.upper() if isinstance(k, str) else k: v for k, v in msg.items()}}
# fix: return {"received": msg}
from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    return {"received": {k.upper() if isinstance(k, str) else k: v for k, v in msg.items()}}
