# Copied from a notebook: the install line is not Python.
# error: syntax
# cause: notebook_line
# words: notebook | !pip install
# at: !pip install fastapi uvicorn
!pip install fastapi uvicorn
from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    return {"received": msg}
