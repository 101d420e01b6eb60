"""Issuing, checking and revoking API tokens."""

import functools
import logging
import threading
from dataclasses import dataclass
from datetime import timedelta

from django.core.signals import request_finished
from django.db import DatabaseError, connection, transaction
from django.db.models import Q
from django.db.models.signals import post_delete, post_save
from django.utils import timezone

from costsite.accounts.models import User
from costsite.cache import VersionedMemo, bump, version
from costsite.orgs import audit
from costsite.orgs.models import ApiToken, AuditAction, Membership, Organization, TokenScope
from costsite.orgs.roles import Role
from costsite.orgs.secrets import digest, new_token_text, parse_token_text

LAST_USED_RESOLUTION = timedelta(minutes=1)

logger = logging.getLogger(__name__)


def issue_token(org, user, name: str, scope: str, expires_at=None) -> tuple[ApiToken, str]:
    """Create a token; returns it with its text, which is never available again."""
    lookup_id, text = new_token_text()
    token = ApiToken.objects.create(
        organization=org,
        user=user,
        name=name,
        scope=scope,
        expires_at=expires_at,
        lookup_id=lookup_id,
        digest=digest(text),
    )
    audit.record(
        org,
        AuditAction.TOKEN_CREATED,
        token,
        actor=user,
        details={"scope": scope, "expires_at": expires_at.isoformat() if expires_at else None},
    )
    return token, text


@dataclass(frozen=True)
class TokenAuth:
    token: ApiToken
    membership: Membership

    @property
    def role(self) -> str:
        """A read token acts as a viewer; a write token with its creator's current role."""
        if self.token.scope == TokenScope.WRITE:
            return self.membership.role
        return Role.VIEWER


@functools.cache
def _token_query() -> str:
    """The token, its organization, its creator and the creator's membership, in one round
    trip. Written as SQL because this runs on every token request and the equivalent ORM query
    (select_related plus two subqueries) costs ~2 ms of query building per request."""

    def columns(model, alias):
        return ", ".join(f'{alias}."{f.column}"' for f in model._meta.concrete_fields)

    token, org, user, member = JOINED_MODELS
    return (
        f"SELECT {columns(token, 't')}, {columns(org, 'o')}, {columns(user, 'u')}, "  # noqa: S608
        f"{columns(member, 'm')} "
        f'FROM "{token._meta.db_table}" t '
        f'JOIN "{org._meta.db_table}" o ON o."id" = t."organization_id" '
        f'JOIN "{user._meta.db_table}" u ON u."id" = t."user_id" '
        f'LEFT JOIN "{member._meta.db_table}" m '
        f'ON m."organization_id" = t."organization_id" AND m."user_id" = t."user_id" '
        f'WHERE t."lookup_id" = %s'
    )


JOINED_MODELS = (ApiToken, Organization, User, Membership)


def _converters(model):
    """The database converters the ORM would apply to each column (datetimes on SQLite...)."""
    result = []
    for field in model._meta.concrete_fields:
        column = field.get_col(model._meta.db_table)
        result.append(
            (column, connection.ops.get_db_converters(column) + field.get_db_converters(connection))
        )
    return result


def _instances(row):
    """Split a joined row into model instances (None for the membership if there is none)."""
    instances, offset = [], 0
    for model in JOINED_MODELS:
        fields = model._meta.concrete_fields
        values = list(row[offset : offset + len(fields)])
        offset += len(fields)
        if values[0] is None:  # the LEFT JOIN found nothing
            instances.append(None)
            continue
        for i, (column, converters) in enumerate(_converters(model)):
            for convert in converters:
                values[i] = convert(values[i], column, connection)
        instances.append(model.from_db(connection.alias, [f.attname for f in fields], values))
    return instances


def _auth(row) -> TokenAuth | None:
    """The TokenAuth of a joined row; None if its creator is inactive or no longer a member."""
    token, organization, user, membership = _instances(row)
    if membership is None or not user.is_active:
        return None
    token.organization, token.user = organization, user
    membership.organization, membership.user = organization, user
    return TokenAuth(token=token, membership=membership)


# The version (costsite.cache) of everything a validated token depends on: tokens, memberships,
# users, organizations. Any save or delete of such a row bumps it (signals below), and so does
# `revoke`, which writes with a conditional UPDATE.
TOKENS_VERSION = "tokens"

# Without a shared cache, another process's change reaches this one within 2 s.
_validated = VersionedMemo(size=1024, local_max_age=2.0)


def _load(lookup_id: str) -> TokenAuth | None:
    with connection.cursor() as cursor:
        cursor.execute(_token_query(), [lookup_id])
        row = cursor.fetchone()
    return None if row is None else _auth(row)


def authenticate(token_text: str) -> TokenAuth | None:
    """The token and its creator's current membership, or None if the token must not work.

    The joined row is kept per process while the tokens version is unchanged (see
    costsite.cache for how far a bump reaches), so a steady request runs no query; the secret
    and the expiry are checked on every request."""
    lookup_id = parse_token_text(token_text)
    if lookup_id is None:
        return None
    auth = _validated.get(lookup_id, version(TOKENS_VERSION), lambda: _load(lookup_id))
    if auth is None or not auth.token.matches(token_text) or not auth.token.is_active:
        return None
    touch_last_used(auth.token)
    return auth


def _access_changed(sender, update_fields=None, **kwargs):
    if sender is User and update_fields and set(update_fields) <= {"last_login"}:
        return  # signing in changes no token's access
    bump(TOKENS_VERSION)


for _model in (ApiToken, Membership, Organization, User):
    post_save.connect(_access_changed, sender=_model, dispatch_uid="token-access-save")
    post_delete.connect(_access_changed, sender=_model, dispatch_uid="token-access-delete")


def _record_use(token_pk: int, now) -> None:
    """One conditional UPDATE, no read: a use within the minute before `now` stands."""
    ApiToken.objects.filter(pk=token_pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
    ).update(last_used_at=now)


# Uses recorded inside a transaction that has not committed yet, per thread: {token pk: time}.
# A request's transaction (ATOMIC_REQUESTS) is rolled back when the request fails (a 403...),
# and the UPDATE with it, while the token cached in this process already says "used".
_unconfirmed = threading.local()


def _pending() -> dict:
    if not hasattr(_unconfirmed, "uses"):
        _unconfirmed.uses = {}
    return _unconfirmed.uses


def _confirm(token_pk: int, now) -> None:
    if _pending().get(token_pk) == now:
        del _pending()[token_pk]


def touch_last_used(token: ApiToken, now=None) -> None:
    """Record use at most once a minute, with one conditional UPDATE and no read; a use is
    recorded whether or not the request's transaction commits (see record_unconfirmed_uses)."""
    now = now or timezone.now()
    if token.last_used_at and now - token.last_used_at < LAST_USED_RESOLUTION:
        return
    _record_use(token.pk, now)
    token.last_used_at = now
    if connection.in_atomic_block:
        _pending()[token.pk] = now
        transaction.on_commit(functools.partial(_confirm, token.pk, now))


def record_unconfirmed_uses(**kwargs) -> None:
    """At the end of a request, after its transaction has committed or rolled back: record again
    the uses whose UPDATE did not commit with it (a no-op UPDATE if it did after all)."""
    uses = _pending()
    while uses:
        token_pk, now = uses.popitem()
        try:
            _record_use(token_pk, now)
        except DatabaseError:
            logger.warning("could not record the use of API token %s", token_pk, exc_info=True)


request_finished.connect(record_unconfirmed_uses, dispatch_uid="token-unconfirmed-uses")


def revoke(token: ApiToken) -> None:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        if ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
            revoked_at=token.revoked_at
        ):
            bump(TOKENS_VERSION)
            audit.record(token.organization, AuditAction.TOKEN_REVOKED, token)


def tokens_visible_to(membership: Membership):
    """Managers see every token of the organization; others only their own."""
    tokens = ApiToken.objects.for_org(membership.organization).select_related("user")
    if membership.role in (Role.OWNER, Role.ADMIN):
        return tokens
    return tokens.filter(user_id=membership.user_id)
