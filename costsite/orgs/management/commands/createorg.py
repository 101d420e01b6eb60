from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from costsite.accounts.models import User, login_key
from costsite.orgs.membership import create_organization
from costsite.orgs.models import Organization


class Command(BaseCommand):
    help = "Create an organization with an owner (the user is created if missing)."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--name", required=True)
        parser.add_argument("--owner", required=True, help="Owner's email.")
        parser.add_argument("--password", help="Password for a new owner account.")

    @transaction.atomic
    def handle(self, *args, slug, name, owner, password, **options):
        if Organization.objects.filter(slug=slug).exists():
            raise CommandError(f"Organization {slug!r} already exists.")
        user = User.objects.filter(email=login_key(owner)).first()
        if user is None:
            user = User.objects.create_user(owner, password)
            self.stdout.write(
                f"Created user {user.email}"
                + ("" if password else " (no password: set one with changepassword)")
            )
        org = create_organization(name, owner=user, slug=slug)
        self.stdout.write(f"Created organization {org.slug} ({org.name}) owned by {user.email}.")
