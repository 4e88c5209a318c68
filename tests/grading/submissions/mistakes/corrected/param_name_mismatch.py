from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(payload: dict):
    return {"received": payload}
