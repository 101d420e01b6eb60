from django.apps import AppConfig


class EstimatesConfig(AppConfig):
    name = "estimates"
    verbose_name = "Estimates and price catalogue"

    def ready(self):
        from costsite import demo
        from estimates.demo import seed_runs
        from estimates.offers import connect_signals

        demo.register(seed_runs)
        connect_signals()
