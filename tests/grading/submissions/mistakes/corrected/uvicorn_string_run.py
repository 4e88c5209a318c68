from fastapi import FastAPI
import uvicorn

app = FastAPI()

@app.post("/message")
async def receive_message(msg: dict):
    return {"received": msg}

if __name__ == "__main__":
    uvicorn.run("main:app", reload=True)
