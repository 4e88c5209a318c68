# The def line lacks its colon.
# error: syntax
# cause: syntax
# words: `:` | colon
# at: async def receive_message(msg: dict)
from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict)
    return {"received": msg}
