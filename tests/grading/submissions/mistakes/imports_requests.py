# Imports a package the grading runtime does not have.
# error: import
# cause: missing_module
# words: `requests` | FastAPI, Starlette, pydantic | standard library
# at: import requests
import requests
from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    return {"received": msg}
