# A Python 2 print statement copied from an old answer.
# error: syntax
# cause: syntax
# words: `print(` | parentheses
# at: print "got a message"
from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    print "got a message"
    return {"received": msg}
