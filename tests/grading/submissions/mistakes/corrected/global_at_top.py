from fastapi import FastAPI

counter = 0
app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    global counter
    counter += 1
    return {"received": msg}
