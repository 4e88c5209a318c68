# Answers a list holding the message instead of an object.
# fails: hello hi extra-fields every-json-type unicode empty-object long-text random-1 random-2 random-3
# feedback: the body should be a JSON object
from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    return [msg]
