# Uses the status constant for 201 from fastapi.status.
# cause: wrong_status
# words: 201 | `status_code=status.HTTP_201_CREATED`
# at: status_code=status.HTTP_201_CREATED
from fastapi import FastAPI, status

app = FastAPI()


@app.post(
    "/message",
    status_code=status.HTTP_201_CREATED,
)
async def receive_message(msg: dict):
    return {"received": msg}
