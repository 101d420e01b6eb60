from django.core.management.base import BaseCommand, CommandError

from costsite.orgs.models import Organization
from estimates import computations
from estimates.management.commands._tables import table
from estimates.offers import offer_table


class Command(BaseCommand):
    help = (
        "Estimate the cost of a run, e.g. "
        "manage.py estimate --provider aws --instance p3.2xlarge --hours 10 [--spot]"
    )

    def add_arguments(self, parser):
        parser.add_argument("--provider", required=True)
        parser.add_argument("--instance", required=True, help="Instance type")
        parser.add_argument("--hours", required=True, type=float)
        parser.add_argument("--region", help="Default: the cheapest region offering it.")
        parser.add_argument("--nodes", type=int, default=1)
        parser.add_argument("--spot", action="store_true")
        parser.add_argument("--org", help="Use this organization's prices and discounts.")

    def handle(self, *args, **o):
        org = None
        if o["org"]:
            org = Organization.objects.filter(slug=o["org"]).first()
            if org is None:
                raise CommandError(f"No organization {o['org']!r}.")
        option = "spot" if o["spot"] else "on_demand"
        region = o["region"] or cheapest_region(org, o["provider"], o["instance"], option)
        data = {
            "provider": o["provider"],
            "region": region,
            "instance_type": o["instance"],
            "hours": o["hours"],
            "nodes": o["nodes"],
            "purchase_option": option,
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


def cheapest_region(org, provider, instance, option) -> str:
    offers = [
        o
        for o in offer_table(org).offers
        if (o.provider, o.instance_type, o.purchase_option) == (provider, instance, option)
    ]
    return min(offers, key=lambda o: o.price_per_hour).region if offers else ""


def format_errors(errors: dict) -> str:
    return "; ".join(f"{field}: {' '.join(map(str, msgs))}" for field, msgs in errors.items())
