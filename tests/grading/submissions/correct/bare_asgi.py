"""A bare ASGI callable doing by hand what FastAPI does: routing, 405, 422 and JSON."""

import json


async def _send_json(send, status, value, extra_headers=()):
    body = json.dumps(value, ensure_ascii=False).encode("utf-8")
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers + list(extra_headers)})
    await send({"type": "http.response.body", "body": body})


async def _read_body(receive):
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        return
    if scope["path"] != "/message":
        await _send_json(send, 404, {"detail": "Not Found"})
        return
    if scope["method"] != "POST":
        await _send_json(send, 405, {"detail": "Method Not Allowed"}, [(b"allow", b"POST")])
        return
    raw = await _read_body(receive)
    try:
        msg = json.loads(raw)
    except ValueError:
        await _send_json(send, 422, {"detail": "malformed JSON"})
        return
    if not isinstance(msg, dict):
        await _send_json(send, 422, {"detail": "the body must be a JSON object"})
        return
    await _send_json(send, 200, {"received": msg})
