from fastapi import FastAPI

total = 0
app = FastAPI()


@app.post("/message")
def receive_message(msg: dict):
    global total
    total = total + 1
    return {"received": msg}
