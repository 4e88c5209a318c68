# Allocates memory in the handler, 16 MB at a time, up to 4 GB, saying how far it got.
from fastapi import FastAPI

app = FastAPI()
hoard = []


@app.post("/message")
def receive_message(msg: dict):
    for step in range(1, 257):
        hoard.append(b"x" * (16 << 20))  # written, so really resident
        print(f"allocated {step * 16} MB", flush=True)
    return {"received": msg}
