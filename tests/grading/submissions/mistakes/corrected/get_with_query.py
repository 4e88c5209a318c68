from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
def read_message(msg: dict):
    return {"received": msg}
