# A relative import from the project's package: the grader has only this file.
# error: import
# cause: local_module
# words: `.models` | one file
# at: from .models import Message
from fastapi import FastAPI

from .models import Message

app = FastAPI()


@app.post("/message")
async def receive_message(msg: Message):
    return {"received": msg}
