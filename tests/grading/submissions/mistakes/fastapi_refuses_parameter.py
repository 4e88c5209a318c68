# FastAPI refuses a parameter type deep inside the decorator; the learner's line must stay.
# error: import
# cause: import_error
# words: FastAPIError | FastAPI refused the route
# at: @app.post("/message")
from fastapi import FastAPI

app = FastAPI()


class Message:
    pass


@app.post("/message")
async def receive_message(msg: Message):
    return {"received": msg}
