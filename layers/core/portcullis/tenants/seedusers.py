"""The test-mode seed users of a workspace, and their one password.

Every workspace starts with a few test-mode users (an admin, a member, a viewer and one
with an unconfirmed email) so a developer can log in at once. The admin's token carries
admin rights on the server API, and test mode accepts any origin, so a password known in
advance (Userfront's seed users share one) would make every workspace's test mode
anyone's: each workspace gets a random password instead, shown once to the operator who
created it (docs/differences.md).
"""

from __future__ import annotations

import secrets

from portcullis.store import users as user_store
from portcullis.users import service as users
from portcullis.users.records import new_user

MODE = "test"
# (username, full name, role in the workspace tenant, email confirmed)
SEED_USERS = (
    ("admin", "Admin User", "admin", True),
    ("member", "Member User", "member", True),
    ("viewer", "Viewer User", "viewer", True),
    ("unconfirmed", "Unconfirmed User", None, False),
)
SEED_DOMAIN = "example.com"
# 24 URL-safe characters (144 bits): passes the password policy by length alone.
PASSWORD_BYTES = 18


def new_password() -> str:
    """A fresh random password: unguessable, and typeable from the printed banner."""
    return secrets.token_urlsafe(PASSWORD_BYTES)


def seed_email(username: str) -> str:
    return f"{username}@{SEED_DOMAIN}"


def create(tenant_id: str) -> str:
    """Create the seed users of a new workspace; returns their (shared) random password."""
    password = new_password()
    for username, full_name, role, confirmed in SEED_USERS:
        item = new_user(
            MODE,
            tenant_id,
            email=seed_email(username),
            username=username,
            name=full_name,
            password=password,
            is_email_confirmed=confirmed,
            roles={tenant_id: [role]} if role else None,
        )
        users.create(item, user_store.Extra.none())
    return password


def replace_password(tenant_id: str) -> tuple[str, list[str]]:
    """Give the workspace's seed users that still exist a new random password and end
    their sessions, e.g. for a workspace created while the password was a fixed one.
    Returns the new password and the usernames it was set on."""
    from portcullis.sessions import (
        lifecycle,  # only this operator command needs the sessions module
    )

    password = new_password()
    changed = []
    for username, *_ in SEED_USERS:
        user = user_store.get_by_email(MODE, tenant_id, seed_email(username))
        if user is None or user.username != username:
            continue
        updated = users.update(user, {"password": password})
        lifecycle.end_all(MODE, tenant_id, int(updated.userId), "password_change")
        changed.append(username)
    return password, changed
