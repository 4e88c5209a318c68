# Counts with total = total + 1 inside the endpoint, without `global`.
# cause: missing_global
# words: UnboundLocalError | `global total`
# at: total = total + 1
# fix: global total
from fastapi import FastAPI

total = 0
app = FastAPI()


@app.post("/message")
def receive_message(msg: dict):
    total = total + 1
    return {"received": msg}
