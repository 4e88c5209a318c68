# Uses jsonable_encoder, seen in the docs, without importing it.
# cause: missing_import
# words: NameError | `from fastapi.encoders import jsonable_encoder`
# at: return {"received": jsonable_encoder(msg)}
from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    return {"received": jsonable_encoder(msg)}
