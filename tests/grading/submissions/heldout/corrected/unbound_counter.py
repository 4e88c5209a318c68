from fastapi import FastAPI

app = FastAPI()
count = 0


@app.post("/message")
async def receive_message(msg: dict):
    global count
    count += 1
    print(f"message number {count}")
    return {"received": msg}
