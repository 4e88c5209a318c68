# dict[str, str] as the type: only messages whose values are all text get through.
# cause: wrong_annotation
# words: `dict[str, str]` | `message: dict`
# at: def message_endpoint(message: dict[str, str]):
# fix: def message_endpoint(message: dict):
from fastapi import FastAPI
app = FastAPI()

@app.post("/message")
def message_endpoint(message: dict[str, str]):
    reply = {"received": message}
    return reply
