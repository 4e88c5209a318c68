# The application is not called app.
# error: no_app
# cause: no_app
# words: `app` | `application`
# at: application = FastAPI()
from fastapi import FastAPI

application = FastAPI()


@application.post("/message")
async def receive_message(msg: dict):
    return {"received": msg}
