# Returns from inside the loop that prints the fields: the empty object never reaches the return.
# cause: null_body
# words: `for` | `return`
# at: for key in msg:
from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    for key in msg:
        print(key, "=", msg[key])
        return {"received": msg}
