from django.core.management.base import BaseCommand, CommandError

from costsite.orgs.models import Organization
from estimates import computations
from estimates.management.commands._tables import table
from estimates.management.commands.estimate import format_errors


class Command(BaseCommand):
    help = "Cheapest offers for a GPU need: manage.py compare --gpu A100 --count 8 --hours 100"

    def add_arguments(self, parser):
        parser.add_argument("--gpu", required=True, help="Accelerator name or family")
        parser.add_argument("--count", required=True, type=int)
        parser.add_argument("--hours", required=True, type=float)
        parser.add_argument("--provider", action="append")
        parser.add_argument(
            "--option", action="append", help="on_demand, spot, commit_1y, commit_3y"
        )
        parser.add_argument("--top", type=int, default=15)
        parser.add_argument("--org", help="Use this organization's prices and discounts.")

    def handle(self, *args, **o):
        org = None
        if o["org"]:
            org = Organization.objects.filter(slug=o["org"]).first()
            if org is None:
                raise CommandError(f"No organization {o['org']!r}.")
        data = {
            "accelerator": o["gpu"],
            "gpu_count": o["count"],
            "hours": o["hours"],
            "max_results": o["top"],
        }
        if o["provider"]:
            data["providers"] = o["provider"]
        if o["option"]:
            data["purchase_options"] = o["option"]
        try:
            _, result = computations.run("compare", org, data)
        except computations.InvalidInput as exc:
            raise CommandError(format_errors(exc.errors)) from exc
        rows = [
            [
                r["provider"],
                r["region"],
                r["instance_type"],
                r["purchase_option"],
                f"{r['nodes']}×{r['gpus_per_node']}",
                f"{r['total_cost']} {r['currency']}",
                r["cost_per_gpu_hour"],
                r["savings_vs_on_demand"] or "",
                r["as_of"],
            ]
            for r in result["results"]
        ]
        self.stdout.write(
            f"{len(rows)} cheapest of {result['matched']} matching offers "
            f"({o['count']} × {o['gpu']}, {o['hours']:g} h)\n"
        )
        self.stdout.write(
            table(
                [
                    "provider",
                    "region",
                    "instance",
                    "option",
                    "gpus",
                    "total",
                    "per GPU-h",
                    "saves vs OD",
                    "as of",
                ],
                rows,
            )
        )
