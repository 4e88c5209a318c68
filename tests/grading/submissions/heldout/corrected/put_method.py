from fastapi import FastAPI
app = FastAPI()

@app.post('/message')
def receive(msg: dict):
    return {'received': msg}
