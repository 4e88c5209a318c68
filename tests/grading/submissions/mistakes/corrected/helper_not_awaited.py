from fastapi import FastAPI

app = FastAPI()


async def make_reply(msg: dict) -> dict:
    return {"received": msg}


@app.post("/message")
async def receive_message(msg: dict):
    return await make_reply(msg)
