"""The grader (the tool) and a test LMS (lti1p3platform), each served by uvicorn on its own loopback port."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from html import unescape
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from grader.config import Settings
from grader.services.lti import platforms
from grader.web.app import create_app
from tests.e2e.service import free_port

from .platform import Lms, ThreadedServer


@dataclass
class Tool:
    """The grader, served: its URL, settings, engine and the submission ids it sent to the graders."""

    url: str
    settings: Settings
    engine: Engine
    enqueued: list[int] = field(default_factory=list)
    roster_syncs: list[int] = field(default_factory=list)
    score_sends: list[tuple[int, int]] = field(default_factory=list)


@pytest.fixture
def tool_port() -> int:
    return free_port()


@pytest.fixture
def tool(settings: Settings, engine: Engine, synced: Session, tool_port: int) -> Iterator[Tool]:
    """The grader on 127.0.0.1:<port>, on the test's own migrated database with the course's content."""
    url = f"http://127.0.0.1:{tool_port}"
    settings = settings.model_copy(update={"public_url": url})
    served = Tool(url=url, settings=settings, engine=engine)
    app = create_app(settings, engine=engine, enqueue=served.enqueued.append)
    app.state.enqueue_roster_sync = served.roster_syncs.append
    app.state.enqueue_score_send = lambda assignment_id, user_id: served.score_sends.append((assignment_id, user_id))
    with ThreadedServer(app, port=tool_port):
        yield served


@pytest.fixture
def lms_host() -> str:
    """The loopback address the LMS listens on (another one makes it another site than the tool)."""
    return "127.0.0.1"


@pytest.fixture
def lms(tool: Tool, session: Session, lms_host: str) -> Iterator[Lms]:
    """The test LMS on its own port, registered with the grader as an administrator would."""
    port = free_port()
    lms = Lms(base_url=f"http://{lms_host}:{port}", tool_url=tool.url)
    platforms.register(session=session, **lms.tool_registration())
    with ThreadedServer(lms.app, host=lms_host, port=port):
        yield lms


FORM_FIELD = re.compile(r'<input type="hidden" name="(\w+)" value="([^"]*)"')
FORM_ACTION = re.compile(r'<form[^>]*action="([^"]+)"')


@dataclass
class LaunchForm:
    """The LMS's auto-submitting launch form, as a browser would post it, and the state cookie the tool set."""

    action: str
    fields: dict[str, str]
    cookies: dict[str, str]


def state_cookies(response: httpx.Response) -> dict[str, str]:
    """The cookies a response set (by name), read from its headers: the test's client keeps no Secure cookie on http."""
    found = {}
    for header in response.headers.get_list("set-cookie"):
        name, _, rest = header.partition("=")
        found[name.strip()] = rest.split(";", 1)[0]
    return found


def start_launch(client: httpx.Client, start_url: str) -> LaunchForm:
    """Open the LMS's launch link and follow the OIDC login to the LMS's signed launch form."""
    to_tool = client.get(start_url)
    assert to_tool.status_code == 302, to_tool.text
    login = client.get(to_tool.headers["location"])
    assert login.status_code == 302, login.text
    cookies = state_cookies(login)
    to_lms = client.get(login.headers["location"])
    assert to_lms.status_code == 200, to_lms.text
    action = FORM_ACTION.search(to_lms.text)
    assert action is not None, to_lms.text
    fields = {name: unescape(value) for name, value in FORM_FIELD.findall(to_lms.text)}
    return LaunchForm(action=unescape(action.group(1)), fields=fields, cookies=cookies)


def post_launch(client: httpx.Client, form: LaunchForm, *, with_cookies: bool = True) -> httpx.Response:
    """Post the launch form to the tool, with the state cookie the browser kept (unless it refused it)."""
    headers = {}
    if with_cookies and form.cookies:
        headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in form.cookies.items())
    return client.post(form.action, data=form.fields, headers=headers)


def path_of(url: str) -> str:
    return urlsplit(url).path
