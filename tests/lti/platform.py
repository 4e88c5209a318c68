"""An LMS for the LTI tests, built on lti1p3platform's platform classes and served by uvicorn on loopback.

lti1p3platform provides the platform's side of LTI 1.3: the OIDC login initiation, the
signed launch (resource link and deep linking), access tokens for the tool's client
assertions, the Assignment and Grade Services and Names and Role Provisioning handlers
(with storage left to the platform) and the check of a deep-linking answer. This module
supplies what a real LMS keeps: the course, its members, its line items and scores, and
which launch each ``lti_message_hint`` stands for. Everything the tool sends arrives here
over HTTP, exactly as it would at an LMS.
"""

from __future__ import annotations

import json
import threading
import time
import typing as t
import warnings
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from lti1p3platform.exceptions import LineItemNotFoundException

with warnings.catch_warnings():
    # Its launch-form template module imports pkg_resources, which warns that it is deprecated.
    warnings.simplefilter("ignore", UserWarning)
    from lti1p3platform.framework.templates import template as launch_form_template
from lti1p3platform.ltiplatform import LTI1P3PlatformConfAbstract
from lti1p3platform.membership import Context
from lti1p3platform.message_launch import LTIAdvantageMessageLaunchAbstract
from lti1p3platform.oidc_login import OIDCLoginAbstract
from lti1p3platform.registration import Registration
from lti1p3platform.request import Request as PlatformRequest
from lti1p3platform.request import TRequest
from lti1p3platform.score import UpdateScoreStatus
from lti1p3platform.service_connector import AssignmentsGradesService, NamesRoleProvisioningService, TPage

LIS = "http://purl.imsglobal.org/vocab/lis/v2/"
LEARNER = LIS + "membership#Learner"
INSTRUCTOR = LIS + "membership#Instructor"
TA = LIS + "membership/Instructor#TeachingAssistant"
CLIENT_ID = "grader-tool-client"
DEPLOYMENT_ID = "deployment-1"
CONTEXT_ID = "course-101"


def new_private_key() -> str:
    """An RSA private key, PEM."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def public_pem(private_pem: str) -> str:
    """The public half of a private key, PEM."""
    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


@dataclass
class LaunchPlan:
    """What one launch of the LMS carries: who launches, from where, asking for what.

    extra_claims replace claims of the signed message (a wrong issuer, audience or deployment).
    expires_in: the id token's lifetime in seconds (negative: already expired).
    """

    user_id: str
    roles: list[str]
    name: str = ""
    email: str = ""
    context_id: str = CONTEXT_ID
    context_title: str = "Web Programming 101"
    resource_link_id: str | None = "link-1"
    custom: dict[str, str] = field(default_factory=dict)
    deep_linking: bool = False
    extra_claims: dict[str, Any] = field(default_factory=dict)
    expires_in: int = 300


@dataclass
class LmsState:
    """What the LMS keeps: members of its course, line items, scores, deep-linked items, launch plans."""

    plans: dict[str, LaunchPlan] = field(default_factory=dict)
    members: list[dict[str, Any]] = field(default_factory=list)
    lineitems: dict[str, dict[str, Any]] = field(default_factory=dict)
    scores: list[dict[str, Any]] = field(default_factory=list)
    deep_linked: list[dict[str, Any]] = field(default_factory=list)
    token_requests: int = 0


class TestPlatform(LTI1P3PlatformConfAbstract):
    """The LMS's registration of the grader (the tool), with the LMS's own key pair."""

    def init_platform_config(self, **kwargs: Any) -> None:
        self.registration_of_tool: Registration = kwargs["registration"]

    def get_registration_by_params(self, **kwargs: Any) -> Registration:
        return self.registration_of_tool


class StarletteRequest(PlatformRequest):
    """lti1p3platform's request for a Starlette request whose body was read beforehand."""

    def __init__(self, request: Request, *, form: dict[str, Any] | None = None, body: Any = None) -> None:
        self.source = request
        self.form = form or {}
        self.body = body
        super().__init__(request)

    def build_metadata(self, request: Any) -> TRequest:
        return {
            "method": request.method,
            "form_data": self.form,
            "get_data": dict(request.query_params),
            "headers": request.headers,
            "content_type": request.headers.get("content-type"),
            "path": request.url.path,
            "json": self.body,
        }


class Login(OIDCLoginAbstract):
    """The LMS starting a launch: a redirect to the tool's OIDC login URL."""

    def set_lti_message_hint(self, **kwargs: Any) -> None:
        self._lti_message_hint = kwargs["hint"]

    def get_redirect(self, url: str) -> Any:
        return RedirectResponse(url, status_code=302)


class Launch(LTIAdvantageMessageLaunchAbstract):
    """The LMS answering the tool's authentication request with a signed launch, as it plans."""

    def __init__(self, request: Any, platform: TestPlatform, lms: Lms) -> None:
        super().__init__(request, platform)
        self.lms = lms

    def get_preflight_response(self) -> dict[str, Any]:
        return dict(self._request.get_data)

    def prepare_launch(self, preflight_response: dict[str, Any]) -> None:
        plan = self.lms.state.plans[preflight_response["lti_message_hint"]]
        assert preflight_response["login_hint"] == plan.user_id
        self.set_user_data(plan.user_id, plan.roles, full_name=plan.name or None, email_address=plan.email or None)
        self.set_launch_context_claim(plan.context_id, context_title=plan.context_title)
        if plan.resource_link_id:
            self.set_resource_link_claim(plan.resource_link_id, title="Assignment link")
        if plan.custom:
            self.set_custom_parameters_claim(plan.custom)
        base = self.lms.base_url
        self.set_ags(f"{base}/contexts/{plan.context_id}/lineitems", allow_creating_lineitems=True)
        self.set_nrps(f"{base}/contexts/{plan.context_id}/memberships")
        if plan.deep_linking:
            self.set_dl(f"{base}/deep-link-return", title="Pick an assignment", accept_types={"ltiResourceLink"})
        self.set_id_token_expiration(plan.expires_in)
        self.set_extra_claims(plan.extra_claims)

    def render_launch_form(self, launch_data: dict[str, Any], **kwargs: Any) -> Response:
        # The LMS's auto-submitting form (lti1p3platform's own template).
        return HTMLResponse(launch_form_template.render(launch_data))


class Grades(AssignmentsGradesService):
    """The LMS's gradebook of one course: line items and scores in ``LmsState``."""

    def __init__(self, request: Any, platform: TestPlatform, lms: Lms, context_id: str) -> None:
        self.lms = lms
        self.context_id = context_id
        super().__init__(request, platform, f"{lms.base_url}/contexts/{context_id}/lineitems")

    def find_lineitems(self, page: int = 1, limit: int | None = None, **filters: Any) -> TPage:
        items = [item for item in self.lms.state.lineitems.values() if item["context"] == self.context_id]
        for key, wanted in (("resourceId", filters.get("resource_id")), ("tag", filters.get("tag"))):
            if wanted is not None:
                items = [item for item in items if item.get(key) == wanted]
        public = [{k: v for k, v in item.items() if k != "context"} for item in items]
        return {"content": public, "has_next": False, "next": None}

    def find_lineitem(self, line_item_id: str) -> Any:
        try:
            return self.lms.state.lineitems[line_item_id]
        except KeyError as exc:
            raise LineItemNotFoundException from exc

    def create_lineitem(self, creation_data: Any) -> Any:
        number = len(self.lms.state.lineitems) + 1
        url = f"{self.lms.base_url}/contexts/{self.context_id}/lineitems/{number}"
        item = {**creation_data, "id": url}
        self.lms.state.lineitems[url] = {**item, "context": self.context_id}
        return item

    def update_lineitem(self, update_data: Any) -> Any:
        raise NotImplementedError

    def delete_lineitem(self, line_item_id: str) -> None:
        raise NotImplementedError

    def update_score(self, line_item_id: str, score: Any) -> UpdateScoreStatus:
        self.find_lineitem(line_item_id)
        self.lms.state.scores.append({**score, "lineitem": line_item_id})
        return UpdateScoreStatus.SUCCESS

    def get_results(
        self, line_item_id: str, page: int = 1, limit: int | None = None, user_id: str | None = None
    ) -> TPage:
        raise NotImplementedError


class Roster(NamesRoleProvisioningService):
    """The LMS's member list of one course."""

    def __init__(self, request: Any, platform: TestPlatform, lms: Lms, context_id: str) -> None:
        self.lms = lms
        self.context_id = context_id
        super().__init__(request, platform, f"{lms.base_url}/contexts/{context_id}/memberships")

    def get_member_data_page(
        self, page: int = 1, limit: int | None = None, role: str | None = None, since: str | None = None
    ) -> TPage:
        return {"content": [dict(member) for member in self.lms.state.members], "has_next": False, "next": None}

    def get_context_by_id(self) -> Context:
        return Context(id=self.context_id, label="WP101", title="Web Programming 101")


def _answer(result: Any) -> Response:
    if result.code >= 400:
        return JSONResponse({"error": result.message}, status_code=result.code)
    if result.result is None:
        return Response(status_code=result.code)
    return Response(json.dumps(result.result), status_code=result.code, media_type=result.media_type)


class Lms:
    """The test LMS: a FastAPI app on lti1p3platform, its state, and how to serve it."""

    def __init__(self, *, base_url: str, tool_url: str) -> None:
        self.base_url = base_url
        self.tool_url = tool_url
        self.private_key = new_private_key()
        self.state = LmsState()
        self.registration = (
            Registration()
            .set_iss(base_url)
            .set_client_id(CLIENT_ID)
            .set_deployment_id(DEPLOYMENT_ID)
            .set_oidc_login_url(f"{tool_url}/lti/login")
            .set_launch_url(f"{tool_url}/lti/launch")
            .set_deeplink_launch_url(f"{tool_url}/lti/launch")
            .set_tool_key_set_url(f"{tool_url}/lti/jwks")
            .set_platform_public_key(public_pem(self.private_key))
            .set_platform_private_key(self.private_key)
        )
        self.app = self._build()

    def platform(self) -> TestPlatform:
        """The library's platform object for one request (it keeps per-request JWT state)."""
        platform = TestPlatform(registration=self.registration)
        platform.get_registration()
        return platform

    def plan(self, hint: str, plan: LaunchPlan) -> str:
        """Remember a launch; the URL a browser opens to start it."""
        self.state.plans[hint] = plan
        return f"{self.base_url}/start/{hint}"

    def tool_registration(self) -> dict[str, Any]:
        """What an administrator copies from this LMS into the tool's registration."""
        return {
            "issuer": self.base_url,
            "client_id": CLIENT_ID,
            "auth_login_url": f"{self.base_url}/auth",
            "auth_token_url": f"{self.base_url}/token",
            "keyset_url": f"{self.base_url}/jwks",
            "deployment_ids": [DEPLOYMENT_ID],
        }

    def _build(self) -> FastAPI:
        app = FastAPI()
        lms = self

        @app.get("/start/{hint}")
        def start(hint: str, request: Request) -> Any:
            plan = lms.state.plans[hint]
            login = Login(StarletteRequest(request), lms.platform())
            login.set_lti_message_hint(hint=hint)
            if plan.deep_linking:
                login.set_deeplinking_launch_url()
            return login.get_redirect(login.prepare_preflight_url(plan.user_id))

        @app.get("/course/{hint}")
        def course_page(hint: str) -> Any:
            # The LMS's course page: the tool opens in a frame, as Canvas and Moodle embed it.
            return HTMLResponse(
                "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
                "<meta name='viewport' content='width=device-width, initial-scale=1'><title>LMS course</title></head>"
                "<body style='margin:0'><h1>Web Programming 101</h1><iframe id='tool' title='Assignment'"
                f" src='/start/{hint}' style='width:100%;height:800px;border:0'></iframe></body></html>"
            )

        @app.get("/auth")
        def auth(request: Request) -> Any:
            return Launch(StarletteRequest(request), lms.platform(), lms).lti_launch()

        @app.get("/jwks")
        def jwks() -> Any:
            return lms.platform().get_jwks()

        @app.post("/token")
        async def token(request: Request) -> Any:
            form = dict((await request.form()).items())
            lms.state.token_requests += 1
            try:
                return lms.platform().get_access_token(form)
            except Exception as exc:  # noqa: BLE001 - the LMS answers any refusal with 400
                return JSONResponse({"error": "invalid_client", "detail": str(exc)}, status_code=400)

        @app.api_route("/contexts/{context_id}/lineitems", methods=["GET", "POST"])
        async def lineitems(context_id: str, request: Request) -> Any:
            body = await request.json() if request.method == "POST" else None
            grades = Grades(StarletteRequest(request, body=body), lms.platform(), lms, context_id)
            if request.method == "POST":
                return _answer(grades.handle_resp(grades.handle_create_lineitem))
            result = grades.handle_resp(grades.handle_get_lineitems)
            if result.code == 200:
                # lti1p3platform answers with its page object ({"content", "has_next", "next"}); AGS 2.0
                # (and Canvas, Moodle) answer with the container: a JSON array, the next page in a Link header.
                result.result = result.result["content"]
            return _answer(result)

        @app.post("/contexts/{context_id}/lineitems/{number}/scores")
        async def scores(context_id: str, number: str, request: Request) -> Any:
            grades = Grades(StarletteRequest(request, body=await request.json()), lms.platform(), lms, context_id)
            url = f"{lms.base_url}/contexts/{context_id}/lineitems/{number}"
            return _answer(grades.handle_resp(grades.handle_update_score, line_item_id=url))

        @app.get("/contexts/{context_id}/memberships")
        def memberships(context_id: str, request: Request) -> Any:
            roster = Roster(StarletteRequest(request), lms.platform(), lms, context_id)
            return _answer(roster.handle_resp(roster.handle_get_members))

        @app.post("/deep-link-return")
        async def deep_link_return(request: Request) -> Any:
            form = dict((await request.form()).items())
            items = lms.platform().validate_deeplinking_resp(form)
            lms.state.deep_linked.extend(items)
            return HTMLResponse("<!doctype html><title>Added</title><p>Added to the course.</p>")

        return app


class ThreadedServer:
    """uvicorn serving an ASGI app on 127.0.0.1:``port`` in a thread of the test."""

    def __init__(self, app: Any, *, host: str = "127.0.0.1", port: int) -> None:
        self.server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="on"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> ThreadedServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: t.Any) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=20)
