"""Demo data for `manage.py seed_demo`.

Seeders are idempotent (get_or_create / update_or_create) and take the demo organization.
"""

from costsite.accounts.models import User
from costsite.notify.models import Channel, ChannelKind
from costsite.orgs.models import Membership, Organization, Team
from costsite.orgs.roles import Role

DEMO_EMAIL = "demo@example.com"
DEMO_PASSWORD = "demo"  # noqa: S105 - documented demo login, seed_demo refuses to run in production


def seed_organization() -> Organization:
    user, created = User.objects.get_or_create(
        email=DEMO_EMAIL, defaults={"name": "Demo User", "is_staff": True}
    )
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save()
    org, _ = Organization.objects.get_or_create(
        slug="demo", defaults={"name": "Demo ML Team", "time_zone": "UTC", "currency": "USD"}
    )
    Membership.objects.get_or_create(organization=org, user=user, defaults={"role": Role.OWNER})
    colleagues = [
        ("finance@example.com", "Fran Finance", Role.FINANCE),
        ("engineer@example.com", "Eli Engineer", Role.MEMBER),
        ("viewer@example.com", "Vic Viewer", Role.VIEWER),
    ]
    people = {}
    for email, name, role in colleagues:
        person, created = User.objects.get_or_create(email=email, defaults={"name": name})
        if created:
            person.set_password(DEMO_PASSWORD)
            person.save()
        Membership.objects.get_or_create(organization=org, user=person, defaults={"role": role})
        people[email] = person
    research, _ = Team.objects.get_or_create(
        organization=org, name="Research", defaults={"description": "Model training runs"}
    )
    research.members.add(user, people["engineer@example.com"])
    platform, _ = Team.objects.get_or_create(
        organization=org,
        name="Platform",
        defaults={"description": "GPU CI and test infrastructure"},
    )
    platform.members.add(user)
    return org


def seed_channels(org: Organization) -> None:
    """An email channel: with no mail server configured its messages print on the console."""
    Channel.objects.get_or_create(
        organization=org,
        name="Demo team email",
        defaults={"kind": ChannelKind.EMAIL, "target": DEMO_EMAIL},
    )


# Run after seed_organization, each with the demo organization. Apps built on the platform
# add theirs with register() from their AppConfig.ready (the platform does not import them).
SEEDERS = [seed_channels]


def register(seeder) -> None:
    if seeder not in SEEDERS:
        SEEDERS.append(seeder)
