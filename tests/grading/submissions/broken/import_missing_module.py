# error: import
# message: ModuleNotFoundError
# message: flask
from flask import Flask

app = Flask(__name__)
