# Adds a dict to a string in a log line.
# cause: crash
# words: TypeError | str
# at: print("Received: " + msg)
# fix: print("Received: " + str(msg))
from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    print("Received: " + msg)
    return {"received": msg}
