# The grader's own packages are not in the learner runtime: importing them fails.
# error: import
# message: ModuleNotFoundError
# message: sqlmodel
import sqlmodel  # the service's ORM
from fastapi import FastAPI

app = FastAPI()
