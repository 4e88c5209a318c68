from fastapi import FastAPI

app = FastAPI()


class Message:
    pass


@app.post("/message")
async def receive_message(msg: dict):
    return {"received": msg}
