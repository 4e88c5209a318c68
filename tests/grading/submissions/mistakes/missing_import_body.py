# Uses Body in the signature without importing it: the file stops while loading.
# error: import
# cause: missing_import
# words: NameError | `from fastapi import FastAPI, Body`
# at: async def receive_message(msg: dict = Body(...)):
from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict = Body(...)):
    return {"received": msg}
