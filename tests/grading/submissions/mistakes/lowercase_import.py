# Imports `fastapi` from fastapi instead of the class FastAPI.
# error: import
# cause: misspelt_name
# words: `FastAPI` | ImportError
# at: from fastapi import fastapi
from fastapi import fastapi

app = fastapi()


@app.post("/message")
async def receive_message(msg: dict):
    return {"received": msg}
