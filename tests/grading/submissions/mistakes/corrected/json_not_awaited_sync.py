from fastapi import FastAPI, Request

app = FastAPI()


@app.post("/message")
def receive_message(msg: dict):
    return {"received": msg}
