# error: no_app
# message: `application`
from fastapi import FastAPI

application = FastAPI()


@application.post("/message")
async def receive_message(msg: dict):
    return {"received": msg}
