# The path starts with a capital letter: paths are case-sensitive.
# cause: wrong_path
# words: /Message | "/message"
# at: @app.post("/Message")
# fix: @app.post("/message")
from fastapi import FastAPI

app = FastAPI()


@app.post("/Message")
async def Message(msg: dict):
    return {"received": msg}
