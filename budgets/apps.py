from django.apps import AppConfig


class BudgetsConfig(AppConfig):
    name = "budgets"
    verbose_name = "Budgets and spend"

    def ready(self):
        from budgets.demo import seed_budgets
        from budgets.overview import spend_panel
        from costsite import demo
        from costsite.orgs import overview

        overview.register("budgets/_overview.html", spend_panel)
        demo.register(seed_budgets)
