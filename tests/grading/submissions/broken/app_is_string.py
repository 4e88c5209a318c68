# error: not_asgi
# message: str
app = "hello"
