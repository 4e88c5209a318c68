from fastapi import FastAPI

app = FastAPI()


def make_reply(msg):
    return {"received": msg}


@app.post("/message")
def message(msg: dict):
    return make_reply(msg)
