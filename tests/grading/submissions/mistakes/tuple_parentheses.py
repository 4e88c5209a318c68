# Returns a pair in parentheses.
# cause: tuple_reply
# words: tuple | `return {"received": msg}`
# at: return ("received", msg)
# fix: return {"received": msg}
from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    return ("received", msg)
