# Writes the status code in quotes, as text.
# cause: crash
# words: number | without quotes | `status_code=200`
# at: status_code="200"
from fastapi import FastAPI
from fastapi.responses import JSONResponse

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    return JSONResponse(content={"received": msg}, status_code="200")
