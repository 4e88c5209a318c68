# Sends the right body with status 201 through JSONResponse.
# cause: wrong_status
# words: 201 | `status_code=201`
# at: return JSONResponse({"received": msg}, status_code=201)
# fix: return JSONResponse({"received": msg})
from fastapi import FastAPI
from fastapi.responses import JSONResponse

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    return JSONResponse({"received": msg}, status_code=201)
