# Refuses messages without "text" with 400, which the exercise does not ask for.
# cause: wrong_status
# words: 400 instead of 200 | `status_code=400`
# at: raise HTTPException(status_code=400
from fastapi import FastAPI, HTTPException

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    if "text" not in msg:
        raise HTTPException(status_code=400, detail="text is required")
    return {"received": msg}
