from fastapi import FastAPI

app = FastAPI()


@app.post("/messages/")
async def receive_message(msg: dict):
    return {"received": msg}
