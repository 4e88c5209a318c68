# Writes the package's name with capitals: the package is fastapi.
# error: import
# cause: misspelt_name
# words: `fastapi` | `from fastapi import FastAPI`
# at: from FastAPI import FastAPI
# fix: from fastapi import FastAPI
from FastAPI import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    return {"received": msg}
