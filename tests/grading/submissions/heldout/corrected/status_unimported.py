from fastapi import FastAPI, status
from fastapi.responses import JSONResponse

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    return JSONResponse({"received": msg}, status_code=status.HTTP_200_OK)
