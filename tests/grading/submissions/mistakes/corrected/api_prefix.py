from fastapi import FastAPI

app = FastAPI(title="Messages API")


@app.post("/message")
async def receive_message(msg: dict):
    return {"received": msg}
