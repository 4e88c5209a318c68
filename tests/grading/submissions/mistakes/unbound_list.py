# Rebinds a module-level list inside the endpoint: Python takes it for a local.
# cause: missing_global
# words: UnboundLocalError | `global history`
# at: history = history + [msg]
# fix: global history
from fastapi import FastAPI

app = FastAPI()
history = []


@app.post("/message")
async def receive_message(msg: dict):
    history = history + [msg]
    return {"received": msg}
