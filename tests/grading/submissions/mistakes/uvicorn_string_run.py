# Starts uvicorn with reload at the bottom, outside any main guard.
# error: import
# cause: server_start
# words: `if __name__ == "__main__":`
# at: uvicorn.run("main:app", reload=True)
from fastapi import FastAPI
import uvicorn

app = FastAPI()

@app.post("/message")
async def receive_message(msg: dict):
    return {"received": msg}

uvicorn.run("main:app", reload=True)
