# "Cleans" every value with .strip(), which only strings have.
# cause: assumes_strings
# words: AttributeError | strip | string
# at: cleaned = {k: v.strip() for k, v in msg.items()}
from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    # remove spaces users type by accident
    cleaned = {k: v.strip() for k, v in msg.items()}
    return {"received": cleaned}
