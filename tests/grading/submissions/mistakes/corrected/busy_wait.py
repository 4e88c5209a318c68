from fastapi import FastAPI

app = FastAPI()
ready = False


@app.post("/message")
async def receive_message(msg: dict):
    return {"received": msg}
