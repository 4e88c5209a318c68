from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    for key in msg:
        print(key, "=", msg[key])
    return {"received": msg}
