# Writes the decorator with a capital P.
# error: import
# cause: misspelt_name
# words: AttributeError | post
# at: @app.Post("/message")
# fix: @app.post("/message")
from fastapi import FastAPI

app = FastAPI()


@app.Post("/message")
async def receive_message(msg: dict):
    return {"received": msg}
