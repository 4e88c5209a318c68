# Declares the message with Query(): FastAPI refuses a dict in the URL while the file loads.
# error: import
# cause: query_parameter
# words: `Query` | body
# at: async def receive_message(msg: dict = Query()):
from fastapi import FastAPI, Query

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict = Query()):
    return {"received": msg}
