# Imports a helper from utils.py, a file of the learner's project that was not uploaded.
# error: import
# cause: local_module
# words: `utils` | one file
# at: import utils
import utils
from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    return {"received": utils.clean(msg)}
