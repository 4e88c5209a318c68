# Returns a JSONResponse of the message itself, without the wrapper.
# cause: not_wrapped
# words: not wrapped | "received"
# at: return JSONResponse(content=msg)
# fix: return JSONResponse(content={"received": msg})
from fastapi import FastAPI
from fastapi.responses import JSONResponse

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    return JSONResponse(content=msg)
