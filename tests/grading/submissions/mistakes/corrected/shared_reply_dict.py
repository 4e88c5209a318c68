from fastapi import FastAPI

app = FastAPI()
REPLY = {"received": {}}


@app.post("/message")
def receive_message(msg: dict):
    return {"received": msg}
