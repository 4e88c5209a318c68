# Returns two values separated by a comma: Python makes a tuple, the client gets an array.
# cause: tuple_reply
# words: tuple | {"received": body}
# at: return "received", body
# fix: return {"received": body}
from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
def reply(body: dict):
    return "received", body
