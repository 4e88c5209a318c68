# A %pip line from a notebook cell at the top of the file.
# error: syntax
# cause: notebook_line
# words: notebook | `%pip install fastapi`
# at: %pip install fastapi
%pip install fastapi
import fastapi

app = fastapi.FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    return {"received": msg}
