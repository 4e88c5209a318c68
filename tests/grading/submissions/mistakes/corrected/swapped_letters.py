from fastapi import FastAPI

app = FastAPI()


@app.post('/message')
async def receive(msg: dict):
    # send it back
    return {'received': msg}
