# A Flask app.
# error: import
# cause: other_framework
# words: FastAPI | Flask | `app = FastAPI()`
# at: from flask import
from flask import Flask, request

app = Flask(__name__)


@app.route("/message", methods=["POST"])
def receive_message():
    return {"received": request.get_json()}
