# The route ends with a slash, so FastAPI redirects /message to /message/.
# cause: redirect
# words: slash | /message/ | 307
# at: @app.post("/message/")
from fastapi import FastAPI

app = FastAPI()


@app.post("/message/")
async def receive_message(msg: dict):
    return {"received": msg}
