# Names the class instead of making an application.
# error: not_asgi
# cause: not_asgi
# words: `app = FastAPI()`
# at: app = FastAPI
from fastapi import FastAPI

app = FastAPI
