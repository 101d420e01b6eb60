import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "costsite.settings")

application = get_asgi_application()

from costsite.startup import require_secret_key  # noqa: E402 - needs the settings loaded

require_secret_key()  # refuse to serve without SECRET_KEY
