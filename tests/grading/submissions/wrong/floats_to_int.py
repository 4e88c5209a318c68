# Rounds floats to integers at the top level: 2.5 becomes 2.
# The random objects of the test's seed all hold a float at the top level.
# fails: every-json-type random-1 random-2 random-3
# feedback: expected float 2.5, received integer 2
from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    return {"received": {k: int(v) if isinstance(v, float) else v for k, v in msg.items()}}
