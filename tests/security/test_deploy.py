"""Production settings: `check --deploy` is clean and responses carry the security headers."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "example.com",
}
# Requests made in a production-configured process (no database needed for /healthz).
PROBE = """
import django
django.setup()
from django.test import Client
client = Client(HTTP_HOST="example.com")
plain = client.get("/healthz")
print("exempt", plain.status_code)
redirect = client.get("/accounts/login/")
print("redirect", redirect.status_code, redirect["Location"])
secure = client.get("/healthz", secure=True)
for name in ("Strict-Transport-Security", "X-Frame-Options", "Referrer-Policy",
             "Cross-Origin-Opener-Policy", "X-Content-Type-Options", "Content-Security-Policy"):
    print(name, "=", secure.headers.get(name))
from django.conf import settings
print("cookies", settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE,
      settings.SESSION_COOKIE_HTTPONLY)
"""


def run(*args):
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY"}}
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=env | PRODUCTION | {"DJANGO_SETTINGS_MODULE": "costsite.settings"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_in_production():
    result = run("manage.py", "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_responses_carry_the_security_headers():
    result = run("-c", PROBE)
    assert result.returncode == 0, result.stderr
    out = result.stdout.splitlines()
    assert "exempt 200" in out  # load balancers probe over plain HTTP
    assert "redirect 301 https://example.com/accounts/login/" in out
    assert "Strict-Transport-Security = max-age=31536000; includeSubDomains; preload" in out
    assert "X-Frame-Options = DENY" in out
    assert "Referrer-Policy = same-origin" in out
    assert "Cross-Origin-Opener-Policy = same-origin" in out
    assert "X-Content-Type-Options = nosniff" in out
    csp = next(line for line in out if line.startswith("Content-Security-Policy = "))
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "cookies True True True" in out
