from django.apps import AppConfig


class CarbonConfig(AppConfig):
    name = "carbon"
    verbose_name = "Carbon"

    def ready(self):
        from carbon.annotate import annotate
        from carbon.overview import carbon_panel
        from costsite.orgs import overview
        from estimates import annotations

        annotations.register(annotate)
        overview.register("carbon/_overview.html", carbon_panel)
