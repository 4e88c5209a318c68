from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def update_message(msg: dict):
    return {"received": msg}
