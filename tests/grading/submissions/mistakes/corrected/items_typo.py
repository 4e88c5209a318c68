from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    copy = {}
    for key, value in msg.items():
        copy[key] = value
    return {"received": copy}
