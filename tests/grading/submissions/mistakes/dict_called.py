# Reads a field with round brackets, calling the dict.
# cause: crash
# words: TypeError | dict
# at: print(msg("text"))
# fix: print(msg.get("text"))
from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
def receive_message(msg: dict):
    print(msg("text"))
    return {"received": msg}
