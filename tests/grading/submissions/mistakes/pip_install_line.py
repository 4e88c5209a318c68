# The install command from the tutorial pasted above the imports.
# error: syntax
# cause: shell_line
# words: terminal | `pip install "fastapi[standard]"`
# at: pip install "fastapi[standard]"
pip install "fastapi[standard]"

from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    return {"received": msg}
