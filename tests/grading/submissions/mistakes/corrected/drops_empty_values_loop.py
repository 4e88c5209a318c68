from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    received = {}
    for key, value in msg.items():
        received[key] = value
    return {"received": received}
