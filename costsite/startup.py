"""Checks a server runs before it starts serving."""

from django.conf import settings


def require_secret_key() -> None:
    """Raise Django's ImproperlyConfigured ("The SECRET_KEY setting must not be empty") when
    SECRET_KEY is missing; wsgi.py, asgi.py and qcluster call it before serving."""
    settings.SECRET_KEY  # noqa: B018 - reading it is the check
