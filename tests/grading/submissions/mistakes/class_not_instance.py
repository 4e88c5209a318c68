# Names the class instead of making an application.
# uncorrectable: the file defines no endpoint; it shows what the grader says about a value named app that is not an application
# error: not_asgi
# cause: not_asgi
# words: `app = FastAPI()`
# at: app = FastAPI
from fastapi import FastAPI

app = FastAPI
