"""FastAPI with an explicit JSONResponse, charset included."""

from fastapi import FastAPI
from fastapi.responses import JSONResponse

app = FastAPI()


@app.post("/message")
def receive_message(msg: dict) -> JSONResponse:
    return JSONResponse(content={"received": msg}, headers={"Content-Type": "application/json; charset=utf-8"})
