# The reply uses a key of its own choosing.
# cause: renamed_key
# words: `message` | `received`
# at: return {"message": msg}
from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    return {"message": msg}
