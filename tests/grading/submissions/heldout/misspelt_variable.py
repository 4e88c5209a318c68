# The parameter is `message`, the return line says `mesage`.
# cause: misspelt_name
# words: NameError | `message`
# at: return {"received": mesage}
# fix: return {"received": message}
from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def get_message(message: dict):
    return {"received": mesage}
