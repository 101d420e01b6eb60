from django.core.management.base import BaseCommand, CommandError

from costsite.orgs.models import Organization
from estimates import computations
from estimates.management.commands._tables import table


class Command(BaseCommand):
    help = (
        "Estimate the cost of a run, e.g. "
        "manage.py estimate --provider aws --instance p3.2xlarge --hours 10 [--spot]"
    )

    def add_arguments(self, parser):
        parser.add_argument("--provider", required=True)
        parser.add_argument("--instance", required=True, help="Instance type")
        parser.add_argument("--hours", required=True, type=float)
        parser.add_argument("--region", help="Default: the first region offering the instance.")
        parser.add_argument("--nodes", type=int, default=1)
        parser.add_argument("--spot", action="store_true")
        parser.add_argument("--org", help="Use this organization's prices and discounts.")

    def handle(self, *args, **o):
        org = None
        if o["org"]:
            org = Organization.objects.filter(slug=o["org"]).first()
            if org is None:
                raise CommandError(f"No organization {o['org']!r}.")
        region = o["region"] or default_region(o["provider"], o["instance"])
        data = {
            "provider": o["provider"],
            "region": region,
            "instance_type": o["instance"],
            "hours": o["hours"],
            "nodes": o["nodes"],
            "purchase_option": "spot" if o["spot"] else "on_demand",
        }
        try:
            _, result = computations.run("estimate", org, data)
        except computations.InvalidInput as exc:
            raise CommandError(format_errors(exc.errors)) from exc
        cur = result["currency"]
        self.stdout.write(
            f"{result['nodes']} × {result['instance_type']} in {result['provider']} "
            f"{result['region']}, {result['purchase_option']}, {result['hours']:g} h\n"
        )
        rows = [
            [name.replace("_", " "), f"{value} {cur}"]
            for name, value in result["breakdown"].items()
        ]
        rows.append(["total", f"{result['total_cost']} {cur}"])
        self.stdout.write(table(["cost", "amount"], rows))
        self.stdout.write("\nAssumptions:")
        self.stdout.write(
            table(
                ["figure", "value", "basis", "as of", "source"],
                [
                    [
                        a["name"],
                        f"{a['value']} {a['unit']}",
                        a["basis"],
                        a["as_of"] or "",
                        a["source"][:80],
                    ]
                    for a in result["assumptions"]
                ],
            )
        )


def default_region(provider, instance):
    from estimates.models import Price

    code = (
        Price.objects.public()
        .filter(instance_type__provider=provider, instance_type__name=instance)
        .order_by("region__code")
        .values_list("region__code", flat=True)
        .first()
    )
    return code or ""


def format_errors(errors: dict) -> str:
    return "; ".join(f"{field}: {' '.join(map(str, msgs))}" for field, msgs in errors.items())
