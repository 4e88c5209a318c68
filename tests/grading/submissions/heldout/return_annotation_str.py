# Annotates the endpoint's return type as str: FastAPI checks the reply against it and fails on the dict.
# cause: response_model
# words: `-> str`
# at: async def receive_message(msg: dict) -> str:
# fix: async def receive_message(msg: dict) -> dict:
from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict) -> str:
    return {"received": msg}
