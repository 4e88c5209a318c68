# A WSGI application, as Flask builds them.
# error: not_asgi
# message: WSGI
import json


def app(environ, start_response):
    body = json.dumps({"received": {}}).encode()
    start_response("200 OK", [("Content-Type", "application/json")])
    return [body]
