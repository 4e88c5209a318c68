from fastapi import FastAPI
app = FastAPI()
@app.post('/message')
async def echo(message: dict):
    return {'received': message}
