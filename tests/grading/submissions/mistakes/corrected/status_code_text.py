from fastapi import FastAPI
from fastapi.responses import JSONResponse

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    return JSONResponse(content={"received": msg}, status_code=200)
