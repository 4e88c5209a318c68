from fastapi import FastAPI

app = FastAPI()
api = FastAPI()  # for the endpoints


@app.post("/message")
async def echo(msg: dict):
    return {"received": msg}
