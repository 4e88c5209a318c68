from fastapi import FastAPI

app = FastAPI()
MAX_LEN = 280


@app.post("/message")
async def receive_message(msg: dict):
    return {"received": msg}
