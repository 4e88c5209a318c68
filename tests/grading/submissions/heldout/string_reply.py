# Answers with a sentence built by an f-string.
# cause: string_reply
# words: string | {"received": msg}
# at: return f"received: {msg}"
# fix: return {"received": msg}
from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    print("got", msg)
    return f"received: {msg}"
