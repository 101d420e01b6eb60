"""Demo budgets and spend for `manage.py seed_demo` (registered in BudgetsConfig.ready)."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from budgets.allocation import create_preset
from budgets.models import AlertRule, Budget, Expense
from costsite.notify.models import Channel
from costsite.orgs.models import Organization, Team


def seed_budgets(org: Organization) -> None:
    """Demo budgets and this month's demo spend (marked "demo data" in each description)."""
    platform = Team.objects.get(organization=org, name="Platform")
    research = Team.objects.get(organization=org, name="Research")
    if not Budget.objects.for_org(org).filter(name="GPU CI").exists():
        create_preset(org, "medium", "GPU CI", platform, org.currency, via="demo")
    training, _ = Budget.objects.get_or_create(
        organization=org,
        name="Research training",
        defaults={"team": research, "amount": Decimal("8000.00"), "currency": org.currency},
    )
    channel = Channel.objects.for_org(org).first()
    for percent, kind in ((80, "actual"), (100, "forecast")):
        rule, _ = AlertRule.objects.get_or_create(
            organization=org, budget=training, percent=percent, kind=kind
        )
        if channel:
            rule.channels.add(channel)
    today = datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0)
    for day in range(today.day):
        when = today - timedelta(days=day)
        for team, service, amount, kind in (
            (research, "Amazon EC2 p4d.24xlarge", Decimal("196.62") + day % 5, "spot"),
            (platform, "Amazon EC2 g5.xlarge", Decimal("24.14") + day % 3, "on_demand"),
        ):
            Expense.objects.get_or_create(
                organization=org,
                external_id=f"demo:{when.date().isoformat()}:{team.pk}",
                defaults={
                    "team": team,
                    "amount": amount,
                    "currency": org.currency,
                    "provider": "aws",
                    "service": service,
                    "region": "us-east-1",
                    "incurred_at": when,
                    "purchase_type": kind,
                    "source": "manual",
                    "description": "demo data",
                    "tags": {"demo": "true"},
                },
            )
