# Uses JSONResponse without importing it.
# cause: missing_import
# words: NameError | `from fastapi.responses import JSONResponse`
# at: return JSONResponse(content={"received": msg})
from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    return JSONResponse(content={"received": msg})
