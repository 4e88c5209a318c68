# error: import
# message: RuntimeError: the database is not configured
# message: line 12
from fastapi import FastAPI

app = FastAPI()


def connect():
    raise RuntimeError("the database is not configured")


connect()
