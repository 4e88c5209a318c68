# One line indented with a tab, the one above with spaces.
# error: syntax
# cause: indentation
# words: tab | spaces
# at: 	return {"received": msg}
from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
        print(msg)
	return {"received": msg}
