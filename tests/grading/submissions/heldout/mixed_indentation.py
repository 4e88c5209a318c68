# The return line is indented less than the line above it.
# error: syntax
# cause: indentation
# words: indent
# at: return {"received": data}
from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive(data: dict):
        print(data)
    return {"received": data}
