"""A demo spot fleet for `manage.py seed_demo` (registered in SpotConfig.ready): a simulated
fleet that runs live once the django-q2 worker starts — the every-minute poll advances its job,
interrupts it at the simulated hazard and launches replacements. Labelled simulated."""

from costsite.orgs.models import Organization, Team
from spot import fleets
from spot.models import Fleet

DEMO_FLEET = "Demo: 7B fine-tune (simulated)"


def seed_fleets(org: Organization) -> None:
    if Fleet.objects.for_org(org).filter(name=DEMO_FLEET).exists():
        return
    fleets.create(
        org,
        {
            "name": DEMO_FLEET,
            "team": Team.objects.filter(organization=org, name="Research").first(),
            "provider": "simulated",
            "region": "us-east-1",
            "availability_zones": ["us-east-1a", "us-east-1b", "us-east-1c"],
            "instance_types": ["p3.2xlarge", "g5.xlarge"],
            "target_count": 2,
            "total_steps": 50_000,
            "fallback_on_demand_after": 6,
            "fallback_unavailable_minutes": 30,
            "simulated_interruptions_per_hour": 0.5,
            "simulated_seed": 42,
            "simulated_steps_per_hour": 6_000,
        },
    )
