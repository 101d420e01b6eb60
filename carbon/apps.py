from django.apps import AppConfig


class CarbonConfig(AppConfig):
    name = "carbon"
    verbose_name = "Carbon"

    def ready(self):
        from carbon.annotate import annotate
        from estimates import annotations

        annotations.register(annotate)
