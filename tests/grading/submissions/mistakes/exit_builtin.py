# Calls exit() at the end of the file, as a script would.
# error: exit
# cause: exit
# words: ended before the server could start
# at: exit()
from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    return {"received": msg}


exit()
