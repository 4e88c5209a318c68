# Body(..., embed=True): FastAPI waits for {"payload": {...}} around the message.
# cause: body_embed
# words: embed | {"payload":
# at: def echo(payload: dict = Body(..., embed=True)):
# fix: def echo(payload: dict = Body(...)):
from fastapi import FastAPI, Body

app = FastAPI()


@app.post("/message")
def echo(payload: dict = Body(..., embed=True)):
    return {"received": payload}
