# Thinks "sending data" is PUT.
# cause: wrong_method
# words: app.post | PUT
# at: @app.put('/message')
# fix: @app.post('/message')
from fastapi import FastAPI
app = FastAPI()

@app.put('/message')
def receive(msg: dict):
    return {'received': msg}
