from fastapi import FastAPI

MESSAGE_PATH = "/message"

app = FastAPI()


@app.post(MESSAGE_PATH)
async def receive_message(msg: dict):
    return {"received": msg}
