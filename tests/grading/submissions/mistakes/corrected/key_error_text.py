from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    print("new message:", msg.get("text"))
    return {"received": msg}
