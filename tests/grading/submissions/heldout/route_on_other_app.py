# Two applications: the route is on `api`, the grader serves `app`.
# cause: route_on_other_app
# words: `api` | `@app.post("/message")`
# at: @api.post("/message")
# fix: @app.post("/message")
from fastapi import FastAPI

app = FastAPI()
api = FastAPI()  # for the endpoints


@api.post("/message")
async def echo(msg: dict):
    return {"received": msg}
