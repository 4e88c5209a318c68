# Turns on debug mode at the end of the file by making a new app: the routes stay on the old one.
# cause: app_rebound
# words: `app` | debug=True
# at: app = FastAPI(debug=True)
from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
def receive_message(msg: dict):
    return {"received": msg}


# show errors in the browser while I develop
app = FastAPI(debug=True)
