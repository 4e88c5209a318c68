from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def get_message(message: dict):
    return {"received": message}
