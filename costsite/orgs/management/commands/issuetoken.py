from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from costsite.accounts.models import login_key
from costsite.orgs.models import Membership, TokenScope
from costsite.orgs.tokens import issue_token


class Command(BaseCommand):
    help = "Issue an API token for a member of an organization; prints the token on its last line."

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True)
        parser.add_argument("--user", required=True, help="Member's email.")
        parser.add_argument("--scope", required=True, choices=TokenScope.values)
        parser.add_argument("--name", default="issued from the command line")
        parser.add_argument("--expires-days", type=int)

    def handle(self, *args, org, user, scope, name, expires_days, **options):
        membership = (
            Membership.objects.select_related("organization", "user")
            .filter(organization__slug=org, user__email=login_key(user))
            .first()
        )
        if membership is None:
            raise CommandError(f"{user} is not a member of organization {org!r}.")
        if expires_days is not None and expires_days < 1:
            raise CommandError("--expires-days must be at least 1.")
        expires_at = timezone.now() + timedelta(days=expires_days) if expires_days else None
        token, text = issue_token(membership.organization, membership.user, name, scope, expires_at)
        self.stderr.write(
            f"Issued {scope} token {token.masked} for {membership.user.email} in {org} "
            f"(acts as {'viewer' if scope == 'read' else membership.role})."
        )
        self.stdout.write(text)
