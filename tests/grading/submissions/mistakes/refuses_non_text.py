# Refuses with 422 every message whose values are not all text, though messages may hold numbers, booleans and nested values.
# cause: wrong_status
# words: 422 instead of 200 | `status_code=422` | `not isinstance(value, str)` | Your function ran
# never: before your function ran
# at: raise HTTPException(status_code=422
from fastapi import FastAPI, HTTPException

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    for value in msg.values():
        if not isinstance(value, str):
            raise HTTPException(status_code=422, detail="every value must be text")
    return {"received": msg}
