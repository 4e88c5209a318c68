# Builds the reply with a comma instead of a colon, in a variable first.
# cause: set_literal
# words: TypeError | colon
# at: response = {"received", message}
# fix: response = {"received": message}
from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def handle_message(message: dict):
    response = {"received", message}
    return response
