# Writes the decorator without its path: @app.post takes the function for the path and registers nothing.
# cause: decorator_not_called
# words: `@app.post("/message")`
# at: @app.post
# fix: @app.post("/message")
from fastapi import FastAPI

app = FastAPI()


@app.post
async def message(msg: dict):
    return {"received": msg}
