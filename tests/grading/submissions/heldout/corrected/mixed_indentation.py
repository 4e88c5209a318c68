from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive(data: dict):
        print(data)
        return {"received": data}
