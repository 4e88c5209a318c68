from fastapi import FastAPI

app = FastAPI()
history = []


@app.post("/message")
async def receive_message(msg: dict):
    global history
    history = history + [msg]
    return {"received": msg}
