# Gives the app a title at the bottom of the file by making a second one: the routes stay on the first.
# cause: app_rebound
# words: `app` | second
# at: app = FastAPI(title="Echo service")
from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    return {"received": msg}


# give the docs page a nice name
app = FastAPI(title="Echo service")
