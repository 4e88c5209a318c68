# The body of the endpoint is not indented.
# error: syntax
# cause: indentation
# words: indent
# at: return {"received": msg}
from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
return {"received": msg}
