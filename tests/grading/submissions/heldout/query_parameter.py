# Types the message as a string: FastAPI looks for it in the query string, never the body.
# cause: query_parameter
# words: query | message: dict
# at: def handle(message: str):
# fix: def handle(message: dict):
from fastapi import FastAPI

app = FastAPI()

@app.post("/message")
def handle(message: str):
    # message is the text the user sent
    return {"received": message}
