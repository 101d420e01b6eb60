"""Settings for costsite. Every value comes from the environment, with safe local defaults.

See the configuration table in README.md.
"""

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)

# Without SECRET_KEY and with DEBUG off it stays empty: commands that do not sign anything
# (makemigrations, check) still run, anything that signs fails with Django's own error, and the
# servers refuse to start (wsgi.py, asgi.py and qcluster call costsite.startup).
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY and DEBUG:
    SECRET_KEY = "django-insecure-local-development-only-key-do-not-use-in-production"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_q",
    "csp",
    "costsite.accounts",
    "costsite.orgs",
    "costsite.notify",
    "estimates",
    "budgets",
    "carbon",
    "spot",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "costsite.orgs.audit.AuditContextMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "costsite.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "costsite.orgs.context_processors.organizations",
            ],
        },
    },
]

WSGI_APPLICATION = "costsite.wsgi.application"

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}

# Each request is one transaction: a view that fails part-way writes nothing.
DATABASES["default"]["ATOMIC_REQUESTS"] = True

if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # A file, not memory, so tests can share the test database with a real qcluster process.
    # One file per test run, so two runs on one checkout do not share it.
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / f"test-db-{os.getpid()}.sqlite3")}

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))
MEDIA_URL = "media/"  # not served: uploads (billing imports) are read by tasks only
# Billing imports wait here for a worker: with workers on other machines, share this directory.
COSTSITE_MAX_IMPORT_MB = int(os.environ.get("COSTSITE_MAX_IMPORT_MB", "1024"))

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # WhiteNoise with the manifest storage in every mode, so local runs look like production.
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL", "")

if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Email -------------------------------------------------------------------------------------
# With no EMAIL_HOST, mail is written to the console (invitations, email alert channels).
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "587"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
EMAIL_TIMEOUT = 10
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend",
)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "costsite <noreply@localhost>")

# --- Security ----------------------------------------------------------------------------------
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "0" if DEBUG else "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
if env_bool("SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# One policy for every page, admin and the API docs included: no inline script or style (data
# for charts travels in `json_script` blocks, which are not executed), no plugins, no framing.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}

# --- REST API ----------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "costsite.orgs.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # JSON only (costsite/renderers.py): /api/docs/ is the interactive documentation.
    "DEFAULT_RENDERER_CLASSES": ["costsite.renderers.JSONRenderer"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "costsite.renderers.JSONNegotiation",
    "DEFAULT_FILTER_BACKENDS": ["costsite.orgs.filters.OrgFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "costsite.orgs.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_CLASSES": ["costsite.orgs.throttling.CallerRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "caller": os.environ.get("COSTSITE_API_THROTTLE_RATE", "1200/min"),
    },
    "EXCEPTION_HANDLER": "costsite.orgs.exceptions.exception_handler",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "costsite API",
    "DESCRIPTION": (
        "Plan, run and account for GPU training and GPU CI on AWS, GCP and Azure. "
        "Authenticate with `Authorization: Bearer cst_...` (tokens are created on the "
        "organization's API tokens page) or with a browser session."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "ProviderEnum": "estimates.models.Provider",
        "PurchaseOptionEnum": "estimates.models.PurchaseOption",
        "EgressKindEnum": "estimates.models.EgressKind",
        "EstimateKindEnum": "estimates.models.EstimateKind",
        "ChannelKindEnum": "costsite.notify.models.ChannelKind",
        "AlertKindEnum": "budgets.models.AlertKind",
        "IdleScanStatusEnum": "spot.models.ScanStatus",
        "FleetProviderEnum": "spot.models.FleetProvider",
        "FleetStatusEnum": "spot.models.FleetStatus",
        "PrecisionEnum": "estimates.models.Precision",
        "MemoryPrecisionEnum": "estimates.memory.PRECISIONS",
    },
}

# --- Background work (django-q2) ---------------------------------------------------------------
Q_CLUSTER = {
    "name": "costsite",
    "workers": int(os.environ.get("Q_WORKERS", "2")),
    "timeout": 120,
    "retry": 180,
    "max_attempts": 3,
    "ack_failures": True,
    "catch_up": False,
    "label": "Tasks",
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"

# --- costsite ----------------------------------------------------------------------------------
# Webhook targets on loopback/private/link-local/metadata addresses are refused unless this is set.
COSTSITE_WEBHOOK_ALLOW_PRIVATE = env_bool("COSTSITE_WEBHOOK_ALLOW_PRIVATE", False)
COSTSITE_WEBHOOK_TIMEOUT_S = float(os.environ.get("COSTSITE_WEBHOOK_TIMEOUT_S", "5"))
COSTSITE_INVITATION_DAYS = int(os.environ.get("COSTSITE_INVITATION_DAYS", "7"))
# Log-in throttling (costsite/accounts/throttle.py): failures per account name and per client
# address within the window; at the limit, logins are refused until the window ends. The
# address limit is higher because many people can share one address (offices, VPNs).
COSTSITE_LOGIN_MAX_FAILURES = int(os.environ.get("COSTSITE_LOGIN_MAX_FAILURES", "5"))
COSTSITE_LOGIN_MAX_FAILURES_PER_IP = int(os.environ.get("COSTSITE_LOGIN_MAX_FAILURES_PER_IP", "20"))
COSTSITE_LOGIN_WINDOW_MINUTES = int(os.environ.get("COSTSITE_LOGIN_WINDOW_MINUTES", "15"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
    },
}
