# api_route without methods registers GET only.
# cause: wrong_method
# words: `@app.post("/message")` | GET
# at: @app.api_route("/message")
# fix: @app.post("/message")
from fastapi import FastAPI

app = FastAPI()


@app.api_route("/message")
async def receive_message(msg: dict):
    return {"received": msg}
