from django.apps import AppConfig


class BudgetsConfig(AppConfig):
    name = "budgets"
    verbose_name = "Budgets and spend"

    def ready(self):
        from django.db.models.signals import post_save, pre_delete, pre_save

        from budgets import rollups
        from budgets.demo import seed_budgets
        from budgets.overview import spend_panel
        from costsite import demo
        from costsite.orgs import overview
        from costsite.orgs.models import Organization, Team

        pre_save.connect(rollups.remember_time_zone, sender=Organization)
        post_save.connect(rollups.follow_time_zone, sender=Organization)
        pre_delete.connect(rollups.on_team_delete, sender=Team)

        overview.register("budgets/_overview.html", spend_panel)
        demo.register(seed_budgets)
