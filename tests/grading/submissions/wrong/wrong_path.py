# Listens on /messages: nothing answers at /message.
# fails: hello hi extra-fields every-json-type unicode empty-object long-text random-1 random-2 random-3 malformed-json array-body string-body get-not-allowed
# feedback: check the path
from fastapi import FastAPI

app = FastAPI()


@app.post("/messages")
async def receive_message(msg: dict):
    return {"received": msg}
