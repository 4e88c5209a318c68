# Returns (body, 200) as Flask does: FastAPI sends the tuple as a JSON array.
# cause: tuple_reply
# words: tuple | `status_code`
# at: return {"received": msg}, 200
# fix: return {"received": msg}
from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
def receive_message(msg: dict):
    return {"received": msg}, 200
