# Expects the message under a "message" key, as the learner's own front end sends it.
# cause: crash
# words: KeyError | 'message'
# at: content = msg["message"]
from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
def post_message(msg: dict):
    content = msg["message"]
    return {"received": content}
