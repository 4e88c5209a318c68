"""Names and Role Provisioning: the LMS course's roster read into accounts and memberships before anyone launches."""

from __future__ import annotations

from dataclasses import dataclass

import requests
from pylti1p3.exception import LtiException
from pylti1p3.names_roles import NamesRolesProvisioningService
from sqlmodel import Session

from grader.models import LtiContext
from grader.services import courses
from grader.services.errors import InvalidInput, NotFound
from grader.services.lti import keys, launches, platforms
from grader.services.lti.connector import CachingServiceConnector


@dataclass(frozen=True)
class RosterSync:
    """What a roster sync did: members read, accounts created, members skipped (inactive or deleted in the LMS)."""

    members: int
    created: int
    skipped: int


def sync(*, session: Session, context_id: int, secret: str, http: requests.Session | None = None) -> RosterSync:
    """Read the LMS course's members and give each an account and a membership with their LMS role."""
    context = session.get(LtiContext, context_id)
    if context is None:
        raise NotFound("No such LMS course.")
    if not context.memberships_url:
        raise InvalidInput(
            "This LMS course offers no roster (Names and Role Provisioning) service; enable it for the tool in the LMS."
        )
    platform = platforms.get(session=session, platform_id=context.platform_id)
    registration = platforms.library_registration(platform, keys.signing_key(session=session, secret=secret))
    service = NamesRolesProvisioningService(
        CachingServiceConnector(registration, http), {"context_memberships_url": context.memberships_url}
    )
    try:
        members = service.get_members()
    except (LtiException, requests.RequestException) as exc:
        raise InvalidInput(f"The LMS did not give the roster: {exc}") from exc
    created = skipped = 0
    for member in members:
        if member.get("status", "Active") != "Active" or not member.get("user_id"):
            skipped += 1
            continue
        claims = {
            "sub": member["user_id"],
            **{key: member.get(key) for key in ("name", "given_name", "family_name", "email")},
        }
        known = launches.identity_exists(session=session, issuer=platform.issuer, subject=str(member["user_id"]))
        user = launches.link_account(session=session, issuer=platform.issuer, claims=claims)
        created += 0 if known else 1
        role = launches.course_role(list(member.get("roles") or []))
        courses.add_member(session=session, course_id=context.course_id, user_id=user.id, role=role)
    session.commit()
    return RosterSync(members=len(members), created=created, skipped=skipped)
