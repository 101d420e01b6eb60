from rest_framework.routers import SimpleRouter


class OptionalSlashRouter(SimpleRouter):
    """Routes answer with or without the trailing slash (`/channels/1/test` and `.../test/`)."""

    def __init__(self):
        super().__init__()
        self.trailing_slash = "/?"
