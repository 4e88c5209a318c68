"""Registered LMSs (platforms) and their deployments, and the tool configuration the LTI library reads."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization
from pylti1p3.deployment import Deployment
from pylti1p3.registration import Registration
from pylti1p3.request import Request
from pylti1p3.tool_config.abstract import ToolConfAbstract
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from grader.models import LtiDeployment, LtiPlatform
from grader.services.errors import AlreadyExists, InvalidInput, NotFound
from grader.services.lti import keys


def _check_url(field: str, value: str) -> str:
    value = value.strip()
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidInput(f"{field} must be an http(s) URL, not {value!r}.", field=field)
    return value


def register(
    *,
    session: Session,
    issuer: str,
    client_id: str,
    auth_login_url: str,
    auth_token_url: str,
    keyset_url: str,
    deployment_ids: list[str],
    auth_audience: str = "",
    title: str = "",
) -> LtiPlatform:
    """Register an LMS (its issuer and the client id it gave the tool) with the deployments allowed to launch."""
    issuer, client_id = issuer.strip(), client_id.strip()
    if not issuer:
        raise InvalidInput("The issuer is required (the LMS's iss, e.g. https://canvas.instructure.com).", "issuer")
    if not client_id:
        raise InvalidInput("The client id is required (the LMS shows it once the tool is added).", "client_id")
    deployments = sorted({deployment.strip() for deployment in deployment_ids if deployment.strip()})
    if not deployments:
        raise InvalidInput(
            "Name at least one deployment id: launches from other deployments are refused.", "deployment"
        )
    if find(session=session, issuer=issuer, client_id=client_id) is not None:
        raise AlreadyExists(f"{issuer} is already registered with client id {client_id}.", field="client_id")
    platform = LtiPlatform(
        issuer=issuer,
        client_id=client_id,
        auth_login_url=_check_url("auth_login_url", auth_login_url),
        auth_token_url=_check_url("auth_token_url", auth_token_url),
        keyset_url=_check_url("keyset_url", keyset_url),
        auth_audience=auth_audience.strip(),
        title=title.strip(),
    )
    session.add(platform)
    try:
        session.flush()
        for deployment in deployments:
            session.add(LtiDeployment(platform_id=platform.id, deployment_id=deployment))
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        raise AlreadyExists(f"{issuer} is already registered with client id {client_id}.", field="client_id") from exc
    session.refresh(platform)
    return platform


def add_deployment(*, session: Session, platform_id: int, deployment_id: str) -> None:
    """Allow launches from one more deployment of a registered LMS."""
    get(session=session, platform_id=platform_id)
    if session.get(LtiDeployment, (platform_id, deployment_id)) is None:
        session.add(LtiDeployment(platform_id=platform_id, deployment_id=deployment_id))
        session.commit()


def get(*, session: Session, platform_id: int) -> LtiPlatform:
    """The registration with this id, or ``NotFound``."""
    platform = session.get(LtiPlatform, platform_id)
    if platform is None:
        raise NotFound("No such LTI registration.")
    return platform


def find(*, session: Session, issuer: str, client_id: str) -> LtiPlatform | None:
    """The registration of this issuer and client id, or None."""
    return session.exec(
        select(LtiPlatform).where(LtiPlatform.issuer == issuer, LtiPlatform.client_id == client_id)
    ).first()


def list_all(*, session: Session) -> list[tuple[LtiPlatform, list[str]]]:
    """Every registration with its deployment ids, oldest first."""
    platforms = session.exec(select(LtiPlatform).order_by(col(LtiPlatform.id))).all()
    return [(platform, deployments(session=session, platform_id=platform.id)) for platform in platforms]


def deployments(*, session: Session, platform_id: int) -> list[str]:
    """The deployment ids allowed for a registration."""
    return list(
        session.exec(
            select(LtiDeployment.deployment_id)
            .where(LtiDeployment.platform_id == platform_id)
            .order_by(col(LtiDeployment.deployment_id))
        )
    )


def origins(*, session: Session) -> list[str]:
    """The origins (scheme://host[:port]) of every registered LMS, which may frame the tool's pages."""
    found: set[str] = set()
    for platform in session.exec(select(LtiPlatform)):
        for url in (platform.issuer, platform.auth_login_url):
            parts = urlsplit(url)
            if parts.scheme in ("http", "https") and parts.netloc:
                found.add(f"{parts.scheme}://{parts.netloc}")
    return sorted(found)


def library_registration(platform: LtiPlatform, signing: keys.SigningKey) -> Registration:
    """The LTI library's view of a registration, with the tool's signing key."""
    public_pem = (
        serialization.load_pem_private_key(signing.private_pem.encode(), password=None)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    registration = (
        Registration()
        .set_issuer(platform.issuer)
        .set_client_id(platform.client_id)
        .set_auth_login_url(platform.auth_login_url)
        .set_auth_token_url(platform.auth_token_url)
        .set_key_set_url(platform.keyset_url)
        .set_tool_private_key(signing.private_pem)
        .set_tool_public_key(public_pem)
    )
    if platform.auth_audience:
        registration.set_auth_audience(platform.auth_audience)
    return registration


class DatabaseToolConfig(ToolConfAbstract[Request]):
    """The registrations and deployments of the database, as the LTI library asks for them.

    An issuer may hold several client ids (one per registration), so every lookup is by issuer and client id.
    """

    def __init__(self, *, session: Session, secret: str) -> None:
        self.session = session
        self.secret = secret
        self.issuers_relation_types = _ManyClientsPerIssuer()

    def find_registration_by_issuer(self, iss: str, *args: Any, **kwargs: Any) -> Registration:
        raise NotImplementedError("every issuer may have several client ids")

    def find_registration_by_params(self, iss: str, client_id: str, *args: Any, **kwargs: Any) -> Registration:
        platform = find(session=self.session, issuer=iss, client_id=client_id)
        if platform is None:
            return None  # type: ignore[return-value]  # the library checks for None and says "not found"
        return library_registration(platform, keys.signing_key(session=self.session, secret=self.secret))

    def find_deployment(self, iss: str, deployment_id: str) -> Deployment | None:
        raise NotImplementedError("every issuer may have several client ids")

    def find_deployment_by_params(
        self, iss: str, deployment_id: str, client_id: str, *args: Any, **kwargs: Any
    ) -> Deployment | None:
        platform = find(session=self.session, issuer=iss, client_id=client_id)
        if platform is None or self.session.get(LtiDeployment, (platform.id, deployment_id)) is None:
            return None
        return Deployment().set_deployment_id(deployment_id)


class _ManyClientsPerIssuer(dict[str, str]):
    """Tells the library that every issuer may have many client ids (its newer, recommended way)."""

    def get(self, key: str, default: Any = None) -> str:
        return "one-issuer-many-client-ids"
