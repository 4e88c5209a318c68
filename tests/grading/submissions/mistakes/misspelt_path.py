# One letter missing in the path.
# cause: wrong_path
# words: /mesage | "/message"
# at: @app.post('/mesage')
# fix: @app.post('/message')
from fastapi import FastAPI

app = FastAPI()

@app.post('/mesage')
async def echo(msg: dict):
    return {'received': msg}
