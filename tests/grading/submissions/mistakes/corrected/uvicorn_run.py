import uvicorn
from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    return {"received": msg}


if __name__ == "__main__":
    uvicorn.run(app, host="0.0.0.0", port=8000)
