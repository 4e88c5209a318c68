# The `fastapi dev` command pasted at the end, with its prompt.
# error: syntax
# cause: shell_line
# words: terminal | `fastapi dev main.py`
# at: $ fastapi dev main.py
from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    return {"received": msg}


$ fastapi dev main.py
