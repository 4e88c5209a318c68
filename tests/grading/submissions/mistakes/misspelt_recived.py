# Leaves out the e of received.
# cause: misspelt_key
# words: `recived` | `received`
# at: return {'recived': message}
# fix: return {'received': message}
from fastapi import FastAPI
app = FastAPI()
@app.post('/message')
async def echo(message: dict):
    return {'recived': message}
