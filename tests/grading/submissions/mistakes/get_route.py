# Registers the endpoint for GET.
# cause: wrong_method
# words: `@app.post("/message")` | `@app.get
# at: @app.get("/message")
from fastapi import FastAPI

app = FastAPI()


@app.get("/message")
async def receive_message(msg: dict):
    return {"received": msg}
