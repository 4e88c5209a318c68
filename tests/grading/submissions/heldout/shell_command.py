# The command that starts the server is pasted at the end of the file.
# error: syntax
# cause: shell_line
# words: terminal | uvicorn main:app --reload
# at: uvicorn main:app --reload
from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    return {"received": msg}

# run with:
uvicorn main:app --reload
