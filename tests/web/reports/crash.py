from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    first_key = list(msg)[0]
    print("first key:", first_key)
    return {"received": msg}
