# Leaves out the leading slash of the path: no request path can ever match it.
# cause: path_without_slash
# words: "/message" | slash
# at: @app.post("message")
# fix: @app.post("/message")
from fastapi import FastAPI

app = FastAPI()


@app.post("message")
async def receive_message(msg: dict):
    return {"received": msg}
