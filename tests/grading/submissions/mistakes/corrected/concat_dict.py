from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    print("Received: " + str(msg))
    return {"received": msg}
