from django.apps import AppConfig


class SpotConfig(AppConfig):
    name = "spot"
    verbose_name = "Spot fleets"

    def ready(self):
        from costsite import demo
        from costsite.orgs import overview
        from spot.demo import seed_fleets
        from spot.overview import spot_panel

        overview.register("spot/_overview.html", spot_panel)
        demo.register(seed_fleets)
