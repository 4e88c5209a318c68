from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def Message(msg: dict):
    return {"received": msg}
