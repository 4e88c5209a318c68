from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
def post_message(msg: dict):
    return {"received": msg}
