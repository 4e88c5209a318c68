# Encodes the message with json.dumps inside the reply.
# cause: json_dumps_value
# words: `json.dumps` | string
# at: return {"received": json.dumps(msg)}
# fix: return {"received": msg}
import json
from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
def receive_message(msg: dict):
    return {"received": json.dumps(msg)}
