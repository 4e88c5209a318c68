from fastapi import FastAPI

app = FastAPI(title="Echo service")


@app.post("/message")
async def receive_message(msg: dict):
    return {"received": msg}
