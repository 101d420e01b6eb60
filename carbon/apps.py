from django.apps import AppConfig


class CarbonConfig(AppConfig):
    name = "carbon"
    verbose_name = "Carbon"

    def ready(self):
        from carbon.annotate import annotate, hourly_co2e
        from carbon.overview import carbon_panel
        from costsite.orgs import overview
        from estimates import annotations

        annotations.register(annotate)
        annotations.register_hourly_co2e(hourly_co2e)
        overview.register("carbon/_overview.html", carbon_panel)
