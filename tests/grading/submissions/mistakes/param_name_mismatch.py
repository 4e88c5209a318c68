# The parameter is called payload, the body of the function says msg.
# cause: misspelt_name
# words: NameError | `payload`
# at: return {"received": msg}
# fix: return {"received": payload}
from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(payload: dict):
    return {"received": msg}
