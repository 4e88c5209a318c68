# Accepts GET as well as POST, so GET /message is not refused with 405.
# fails: get-not-allowed
# feedback: should not be allowed
from fastapi import FastAPI

app = FastAPI()


@app.api_route("/message", methods=["GET", "POST"])
async def receive_message(msg: dict):
    return {"received": msg}
