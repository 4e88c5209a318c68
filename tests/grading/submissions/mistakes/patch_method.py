# Registers PATCH.
# cause: wrong_method
# words: `@app.post("/message")` | PATCH
# at: @app.patch("/message")
# fix: @app.post("/message")
from fastapi import FastAPI

app = FastAPI()


@app.patch("/message")
async def update_message(msg: dict):
    return {"received": msg}
