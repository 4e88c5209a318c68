# "Cleans" the message by dropping every falsy value: false, 0, null, "" and [] disappear.
# cause: dropped_fields
# words: `if v`
# at: clean = {k: v for k, v in msg.items() if v}
from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    clean = {k: v for k, v in msg.items() if v}
    return {"received": clean}
