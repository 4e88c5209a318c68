# Answers 201 Created instead of 200.
# fails: hello hi extra-fields every-json-type unicode empty-object long-text random-1 random-2 random-3
# feedback: expected status 200, received 201
from fastapi import FastAPI

app = FastAPI()


@app.post("/message", status_code=201)
async def receive_message(msg: dict):
    return {"received": msg}
