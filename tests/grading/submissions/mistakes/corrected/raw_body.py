from fastapi import FastAPI, Request

app = FastAPI()


@app.post("/message")
async def receive_message(data: dict):
    return {"received": data}
