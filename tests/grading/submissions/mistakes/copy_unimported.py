# Copies the message with copy.deepcopy before sending it back, but never imports copy.
# cause: missing_import
# words: `import copy` | never imported
# at: return {"received": copy.deepcopy(msg)}
# fix: import copy
from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    return {"received": copy.deepcopy(msg)}
