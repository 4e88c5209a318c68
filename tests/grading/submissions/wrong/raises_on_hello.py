# Raises an exception for the lesson's own message; every other case is right.
# A crash on one request must cost that case only: the next cases still get answers.
# fails: hello
# feedback: the endpoint raised an exception
from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    if msg == {"text": "Hello"}:
        raise RuntimeError("this message is not welcome")
    return {"received": msg}
