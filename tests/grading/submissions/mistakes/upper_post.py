# Writes the HTTP method in capitals in the decorator, as it appears in the docs' tables.
# error: import
# cause: misspelt_name
# words: AttributeError | `post`
# at: @app.POST("/message")
# fix: @app.post("/message")
from fastapi import FastAPI

app = FastAPI()

@app.POST("/message")
def echo(data: dict):
    return {"received": data}
