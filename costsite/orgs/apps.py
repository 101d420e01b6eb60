from django.apps import AppConfig


class OrgsConfig(AppConfig):
    name = "costsite.orgs"
    label = "orgs"
    verbose_name = "Organizations"

    def ready(self):
        import sys

        from costsite.orgs import (
            schema,  # noqa: F401  (registers the OpenAPI auth extension)
            tokens,  # noqa: F401  (connects the token cache's invalidation)
        )
        from costsite.startup import require_secret_key

        if "qcluster" in sys.argv[1:2]:  # the task workers sign nothing yet, but must not
            require_secret_key()  # run a production deployment half-configured
