# Counts the messages in a module-level variable without `global`.
# cause: missing_global
# words: UnboundLocalError | `global count`
# at: count += 1
# fix: global count
from fastapi import FastAPI

app = FastAPI()
count = 0


@app.post("/message")
async def receive_message(msg: dict):
    count += 1
    print(f"message number {count}")
    return {"received": msg}
