# Builds the reply with dict() and misspells the keyword that becomes its key.
# cause: misspelt_key
# words: recieved | received
# at: return dict(recieved=msg)
# fix: return dict(received=msg)
from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    return dict(recieved=msg)
