# Puts the message in the path, so only /message/<something> exists.
# cause: path_parameter
# words: `{text}` | body
# at: @app.post("/message/{text}")
from fastapi import FastAPI

app = FastAPI()


@app.post("/message/{text}")
async def receive_message(text: str):
    return {"received": {"text": text}}
