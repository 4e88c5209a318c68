# Two letters swapped in the parameter's name on the return line.
# cause: misspelt_name
# words: NameError | `msg`
# at: return {'received': mgs}
# fix: return {'received': msg}
from fastapi import FastAPI

app = FastAPI()


@app.post('/message')
async def receive(msg: dict):
    # send it back
    return {'received': mgs}
