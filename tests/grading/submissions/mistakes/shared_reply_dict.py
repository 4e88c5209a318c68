# Fills one module-level reply dict: the wrapper is shared and every message is merged into it.
# cause: kept_state
# words: `REPLY` | between requests
# at: REPLY["received"].update(msg)
from fastapi import FastAPI

app = FastAPI()
REPLY = {"received": {}}


@app.post("/message")
def receive_message(msg: dict):
    REPLY["received"].update(msg)
    return REPLY
