"""``/docs``: the API reference, drawn from the OpenAPI schema by our own template.

FastAPI's default page loads Swagger UI's script and stylesheet from a CDN. That
breaks offline and needs inline script, so instead this page lists every API
operation from ``app.openapi()``; the machine-readable schema stays at
``/openapi.json`` for tools.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from grader.web.deps import OptionalUser
from grader.web.templating import render

router = APIRouter(include_in_schema=False)

_METHOD_ORDER = ("get", "post", "put", "patch", "delete")


def _schema_name(schema: dict[str, Any] | None) -> str:
    if not schema:
        return ""
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    if schema.get("type") == "array":
        return f"list of {_schema_name(schema.get('items')) or 'items'}"
    if "anyOf" in schema:
        return " or ".join(filter(None, (_schema_name(option) for option in schema["anyOf"])))
    return str(schema.get("type", ""))


def _operations(openapi: dict[str, Any]) -> list[dict[str, Any]]:
    operations = []
    for path, methods in openapi.get("paths", {}).items():
        for method in _METHOD_ORDER:
            operation = methods.get(method)
            if operation is None:
                continue
            body = operation.get("requestBody", {}).get("content", {})
            responses = []
            for status, response in operation.get("responses", {}).items():
                content = response.get("content", {}).get("application/json", {})
                responses.append(
                    {
                        "status": status,
                        "description": response.get("description", ""),
                        "schema": _schema_name(content.get("schema")),
                    }
                )
            operations.append(
                {
                    "method": method.upper(),
                    "path": path,
                    "summary": operation.get("summary", ""),
                    "description": operation.get("description", ""),
                    "secured": bool(operation.get("security")),
                    "parameters": [
                        {
                            "name": parameter["name"],
                            "where": parameter["in"],
                            "required": parameter.get("required", False),
                            "type": _schema_name(parameter.get("schema")),
                        }
                        for parameter in operation.get("parameters", [])
                    ],
                    "body": [
                        {"media_type": media, "schema": _schema_name(spec.get("schema"))}
                        for media, spec in body.items()
                    ],
                    "responses": responses,
                }
            )
    return operations


@router.get("/docs", response_class=HTMLResponse)
def api_docs(request: Request, user: OptionalUser) -> Response:
    """The API reference page."""
    openapi = request.app.openapi()
    schemas = openapi.get("components", {}).get("schemas", {})
    return render(
        request,
        "api_docs.html",
        {
            "info": openapi.get("info", {}),
            "operations": _operations(openapi),
            "schemas": {
                name: {
                    field: {
                        "type": _schema_name(spec) or spec.get("title", ""),
                        "required": field in schema.get("required", []),
                        "description": spec.get("description", ""),
                    }
                    for field, spec in schema.get("properties", {}).items()
                }
                for name, schema in sorted(schemas.items())
            },
        },
    )
