from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    text = msg.get("text", "")
    print("got:", text)
    return {"received": msg}
