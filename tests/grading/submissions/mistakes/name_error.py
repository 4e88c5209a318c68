# A misspelt name at the top level.
# uncorrectable: the file defines no endpoint; it shows a misspelt name at the top level
# error: import
# cause: misspelt_name
# words: NameError | `FastApi` | did you mean `FastAPI`
# at: app = FastApi()
from fastapi import FastAPI

app = FastApi()
