from fastapi import FastAPI
from fastapi.encoders import jsonable_encoder

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    return {"received": jsonable_encoder(msg)}
