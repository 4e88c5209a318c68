# Annotates the body as a bare list: FastAPI cannot read it from JSON and refuses the endpoint while loading.
# error: import
# cause: wrong_annotation
# words: `list` | data: dict
# at: async def message(data: list):
# fix: async def message(data: dict):
from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def message(data: list):
    return {"received": data}
