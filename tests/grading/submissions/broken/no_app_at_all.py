# error: no_app
# message: no `app` found
def receive_message(msg):
    return {"received": msg}
