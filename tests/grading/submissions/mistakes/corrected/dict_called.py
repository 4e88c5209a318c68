from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
def receive_message(msg: dict):
    print(msg.get("text"))
    return {"received": msg}
