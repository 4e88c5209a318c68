from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def message(msg: dict):
    return {"received": msg}
