# Uses status.HTTP_200_OK without importing status.
# cause: missing_import
# words: `status` | import
# at: status_code=status.HTTP_200_OK
# fix: from fastapi import FastAPI, status
from fastapi import FastAPI
from fastapi.responses import JSONResponse
app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    return JSONResponse({"received": msg}, status_code=status.HTTP_200_OK)
