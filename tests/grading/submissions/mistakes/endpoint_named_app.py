# Names the endpoint function `app`, which replaces the application: the name `app` ends up holding the function.
# cause: not_asgi
# words: `app` | replaces the application
# at: async def app(msg: dict):
# error: not_asgi
# fix: async def receive_message(msg: dict):
from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def app(msg: dict):
    return {"received": msg}
