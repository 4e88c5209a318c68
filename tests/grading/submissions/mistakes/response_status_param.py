# Sets the status on the Response parameter to 201.
# cause: wrong_status
# words: 201 | `response.status_code = 201`
# at: response.status_code = 201
from fastapi import FastAPI, Response

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict, response: Response):
    response.status_code = 201
    return {"received": msg}
