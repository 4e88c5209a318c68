# Refuses the empty object with 400.
# cause: wrong_status
# words: 400 | empty
# at: raise HTTPException(status_code=400, detail="empty message")
from fastapi import FastAPI, HTTPException

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    if not msg:
        raise HTTPException(status_code=400, detail="empty message")
    return {"received": msg}
