# A plain def endpoint that sleeps longer than any client waits.
# limits: quick
# cause: blocking_call
# words: `time.sleep`
# at: sleep(10)
from time import sleep

from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
def receive_message(msg: dict):
    sleep(10)
    return {"received": msg}
