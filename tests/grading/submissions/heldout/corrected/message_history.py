from fastapi import FastAPI

app = FastAPI()
messages = []


@app.post("/message")
async def receive_message(msg: dict):
    messages.append(msg)
    return {"received": msg}
