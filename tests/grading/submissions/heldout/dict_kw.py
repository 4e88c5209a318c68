# Wraps the message once more with dict(msg=msg) before putting it under "received".
# cause: double_wrapped
# words: "msg" | `{"received": msg}`
# at: data = dict(msg=msg)
# fix: return {"received": msg}
from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    data = dict(msg=msg)
    return {"received": data}
