# Registers the endpoint for GET instead of POST.
# fails: hello hi extra-fields every-json-type unicode empty-object long-text random-1 random-2 random-3 malformed-json array-body string-body get-not-allowed
# feedback: does not accept POST
from fastapi import FastAPI

app = FastAPI()


@app.get("/message")
async def receive_message(msg: dict):
    return {"received": msg}
