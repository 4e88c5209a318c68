from fastapi import FastAPI

app = FastAPI()


async def log_message(msg):
    print("got", msg)


@app.post("/message")
async def receive_message(msg: dict):
    await log_message(msg)
    return {"received": msg}
