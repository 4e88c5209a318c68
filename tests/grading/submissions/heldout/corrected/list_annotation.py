from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def message(data: dict):
    return {"received": data}
