# Calls sys.exit() at the end of the file.
# error: exit
# cause: exit
# words: ended before the server could start | `if __name__ == "__main__":`
# at: sys.exit()
import sys

from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    return {"received": msg}


sys.exit()
