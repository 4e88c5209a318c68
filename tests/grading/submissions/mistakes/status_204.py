# Answers 204 No Content: FastAPI sends no body at all.
# cause: wrong_status
# words: 204 | `status_code=204`
# at: @app.post("/message", status_code=204)
# fix: @app.post("/message")
from fastapi import FastAPI

app = FastAPI()


@app.post("/message", status_code=204)
async def receive_message(msg: dict):
    return {"received": msg}
