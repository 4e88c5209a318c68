# Leaves the parameter without a type: FastAPI then looks for it in the query string.
# cause: query_parameter
# words: query | `msg: dict`
# at: def receive_message(msg):
# fix: def receive_message(msg: dict):
from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
def receive_message(msg):
    return {"received": msg}
