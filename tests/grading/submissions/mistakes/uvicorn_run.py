# Starts the server itself at import, as in a tutorial's `python main.py`.
# error: import
# cause: server_start
# words: `if __name__ == "__main__":`
# at: uvicorn.run(app
import uvicorn
from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    return {"received": msg}


uvicorn.run(app, host="0.0.0.0", port=8000)
