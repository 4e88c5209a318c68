from fastapi import FastAPI

app = FastAPI()

@app.post('/message')
async def echo(msg: dict):
    return {'received': msg}
