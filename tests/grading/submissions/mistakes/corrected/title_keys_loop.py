from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    reply = {}
    for key, value in msg.items():
        reply[key] = value
    return {"received": reply}
