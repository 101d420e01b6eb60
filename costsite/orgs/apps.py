from django.apps import AppConfig


class OrgsConfig(AppConfig):
    name = "costsite.orgs"
    label = "orgs"
    verbose_name = "Organizations"

    def ready(self):
        from costsite.orgs import schema  # noqa: F401  (registers the OpenAPI auth extension)
