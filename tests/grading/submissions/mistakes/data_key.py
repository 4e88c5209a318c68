# Uses "data" as the key, as many APIs do.
# cause: renamed_key
# words: `data` | `received`
# at: return {"data": msg, }
# fix: return {"received": msg, }
from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    return {"data": msg, }
