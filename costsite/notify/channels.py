"""Validating, creating and deleting alert channels."""

import secrets

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email

from costsite.notify import ssrf
from costsite.notify.models import Channel, ChannelKind
from costsite.orgs import audit
from costsite.orgs.models import AuditAction

MAX_EMAILS = 20


def clean_target(kind: str, target: str) -> str:
    """The normalized target for a kind of channel, or ValidationError with the reason."""
    target = (target or "").strip()
    if not target:
        raise ValidationError("This field is required.")
    if kind == ChannelKind.EMAIL:
        emails = [e.strip().lower() for e in target.split(",") if e.strip()]
        if len(emails) > MAX_EMAILS:
            raise ValidationError(f"At most {MAX_EMAILS} addresses.")
        for email in emails:
            validate_email(email)
        return ", ".join(emails)
    URLValidator(schemes=["http", "https"])(target)
    try:
        ssrf.check_url(target)
    except ssrf.BlockedDestination as exc:
        raise ValidationError(str(exc)) from exc
    return target


def new_secret() -> str:
    return secrets.token_hex(32)


def create_channel(org, name: str, kind: str, target: str, enabled: bool = True) -> Channel:
    """Create a channel; webhook channels get a signing secret (show it to the user once)."""
    channel = Channel.objects.create(
        organization=org,
        name=name,
        kind=kind,
        target=target,
        enabled=enabled,
        secret=new_secret() if kind == ChannelKind.WEBHOOK else "",
    )
    # The target is not recorded: webhook URLs can carry credentials (Slack's do).
    audit.record(org, AuditAction.CHANNEL_CREATED, channel, details={"kind": kind})
    return channel


def rotate_secret(channel: Channel) -> str:
    channel.secret = new_secret()
    channel.save(update_fields=["secret"])
    audit.record(channel.organization, AuditAction.CHANNEL_SECRET_ROTATED, channel)
    return channel.secret


def delete_channel(channel: Channel) -> None:
    audit.record(
        channel.organization, AuditAction.CHANNEL_DELETED, channel, details={"kind": channel.kind}
    )
    channel.delete()
