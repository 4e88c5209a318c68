# Ends with app.run() as in Flask: FastAPI apps have no run method.
# error: import
# cause: server_start
# words: `app.run()` | grader
# at: app.run()
from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    return {"received": msg}


app.run()
