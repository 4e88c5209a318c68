# Prints the reply instead of returning it.
# cause: null_body
# words: prints | return
# at: print({"received": msg})
from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    print({"received": msg})
