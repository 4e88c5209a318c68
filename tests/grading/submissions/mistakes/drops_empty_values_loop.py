# Copies the message field by field, but only the fields whose value is true: false, 0, null, "" and [] are lost.
# cause: dropped_fields
# words: `if value:` | false or empty
# at: if value:
from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    received = {}
    for key, value in msg.items():
        if value:
            received[key] = value
    return {"received": received}
