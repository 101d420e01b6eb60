"""Inviting people by email with a single-use, expiring link."""

import logging
import smtplib

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from costsite.orgs import audit
from costsite.orgs.membership import add_member
from costsite.orgs.models import AuditAction, Invitation, Membership
from costsite.orgs.secrets import digest, new_link_secret

logger = logging.getLogger(__name__)


class InvitationError(Exception):
    """The link cannot be used; the message is shown to the person holding it."""


def create_invitation(org, email: str, role: str, invited_by) -> tuple[Invitation, str]:
    """Create an invitation; returns it with its link secret, which is not stored."""
    secret = new_link_secret()
    invitation = Invitation.objects.create(
        organization=org,
        email=email.strip().lower(),
        role=role,
        invited_by=invited_by,
        digest=digest(secret),
    )
    audit.record(
        org,
        AuditAction.INVITATION_CREATED,
        invitation,
        actor=invited_by,
        label=invitation.email,
        details={"role": role},
    )
    return invitation, secret


def send_invitation_email(invitation: Invitation, link: str) -> str | None:
    """Email the link; returns why it could not be sent, or None. The invitation stands either
    way: the inviter can copy the link from the page."""
    inviter = invitation.invited_by.get_full_name() if invitation.invited_by else "Someone"
    try:
        send_mail(
            subject=f"You are invited to {invitation.organization.name} on costsite",
            message=(
                f"{inviter} invited you to join {invitation.organization.name} on costsite "
                f"as {invitation.get_role_display().lower()}.\n\n"
                f"Accept the invitation: {link}\n\n"
                f"The link works once and expires on {invitation.expires_at:%Y-%m-%d %H:%M} UTC."
            ),
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[invitation.email],
        )
    except (smtplib.SMTPException, OSError) as exc:
        logger.warning("invitation email to %s failed: %s", invitation.email, exc)
        return f"The email could not be sent ({exc.__class__.__name__}); copy the link instead."
    return None


def find_invitation(secret: str) -> Invitation | None:
    return Invitation.objects.select_related("organization").filter(digest=digest(secret)).first()


def check_usable(invitation: Invitation | None, user=None) -> None:
    if invitation is None:
        raise InvitationError("This invitation link is not valid.")
    if invitation.status != "pending":
        raise InvitationError(f"This invitation has been {invitation.status}.")
    if user is not None and user.email.lower() != invitation.email:
        raise InvitationError(
            f"This invitation is for {invitation.email}; you are signed in as {user.email}."
        )


def accept_invitation(secret: str, user) -> Membership:
    """Use the link once: the first caller to claim it joins; everyone after gets an error."""
    invitation = find_invitation(secret)
    check_usable(invitation, user)
    now = timezone.now()
    with transaction.atomic():
        claimed = Invitation.objects.filter(
            pk=invitation.pk, accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=now
        ).update(accepted_at=now, accepted_by=user)
        if not claimed:
            raise InvitationError("This invitation has already been used.")
        return add_member(invitation.organization, user, invitation.role)


def revoke_invitation(invitation: Invitation) -> None:
    if Invitation.objects.filter(
        pk=invitation.pk, accepted_at__isnull=True, revoked_at__isnull=True
    ).update(revoked_at=timezone.now()):
        audit.record(
            invitation.organization,
            AuditAction.INVITATION_REVOKED,
            invitation,
            label=invitation.email,
            details={"role": invitation.role},
        )
