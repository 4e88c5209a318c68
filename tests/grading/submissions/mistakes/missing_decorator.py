# Writes the endpoint function and forgets the decorator that makes it a route.
# cause: missing_decorator
# words: `@app.post("/message")`
# at: async def receive_message(msg: dict):
from fastapi import FastAPI

app = FastAPI()


async def receive_message(msg: dict):
    return {"received": msg}
