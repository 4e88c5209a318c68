# Accepts GET as well as POST.
# cause: method_allowed
# words: 405 | `@app.post("/message")`
# at: @app.api_route("/message"
from fastapi import FastAPI

app = FastAPI()


@app.api_route("/message", methods=["GET", "POST"])
async def receive_message(msg: dict = None):
    return {"received": msg}
