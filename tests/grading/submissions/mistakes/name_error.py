# A misspelt name at the top level.
# uncorrectable: the file defines no endpoint; it shows a misspelt name at the top level
# error: import
# cause: import_error
# words: NameError | FastApi | spelling
# at: app = FastApi()
from fastapi import FastAPI

app = FastApi()
