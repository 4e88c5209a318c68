# Puts the message through an f-string, which gives Python's text of the dict.
# cause: str_message
# words: string | f"{msg}"
# at: return {"received": f"{msg}"}
# fix: return {"received": msg}
from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    return {"received": f"{msg}"}
