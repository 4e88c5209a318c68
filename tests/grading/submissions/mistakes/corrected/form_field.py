from fastapi import FastAPI, Form

app = FastAPI()


@app.post("/message")
def send(msg: dict):
    return {"received": msg}
