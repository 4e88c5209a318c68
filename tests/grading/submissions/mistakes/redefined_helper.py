# Two helpers of one name: the second, written for text only, replaces the first.
# cause: redefined_function
# words: `make_reply` | twice
# at: def make_reply(text):
from fastapi import FastAPI

app = FastAPI()


def make_reply(msg):
    return {"received": msg}


@app.post("/message")
def message(msg: dict):
    return make_reply(msg)


def make_reply(text):
    return {"received": {"text": text}}
