# error: not_asgi
# message: FastAPI
from fastapi import FastAPI

app = FastAPI  # the class, not an instance
