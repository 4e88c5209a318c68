from fastapi import FastAPI

app = FastAPI()


# v2 - fixed the key
@app.post("/message")
async def receive_message(msg: dict):
    return {"received": msg}
