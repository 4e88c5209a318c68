# error: import
# message: No module named 'grader'
from grader.config import get_settings
from fastapi import FastAPI

app = FastAPI()
settings = get_settings()
