"""Random secrets shown once to a person, and the digests stored in their place."""

import secrets

from django.utils.crypto import salted_hmac

TOKEN_PREFIX = "cst_"  # noqa: S105 - a public prefix, not a secret


def digest(secret_text: str) -> str:
    """HMAC-SHA256 of a secret, keyed by SECRET_KEY. Only this is stored."""
    return salted_hmac("costsite.secret-digest", secret_text, algorithm="sha256").hexdigest()


def new_token_text() -> tuple[str, str]:
    """A new API token: (lookup_id, full token text `cst_<lookup_id>_<secret>`)."""
    lookup_id = secrets.token_hex(6)
    return lookup_id, f"{TOKEN_PREFIX}{lookup_id}_{secrets.token_urlsafe(32)}"


def parse_token_text(token_text: str) -> str | None:
    """The lookup id of a token text, or None if it is not shaped like one of ours."""
    if not token_text.startswith(TOKEN_PREFIX):
        return None
    lookup_id, sep, secret = token_text[len(TOKEN_PREFIX) :].partition("_")
    if not sep or len(lookup_id) != 12 or len(secret) < 20:
        return None
    return lookup_id


def new_link_secret() -> str:
    return secrets.token_urlsafe(32)
