"""Liveness and readiness probes for load balancers and orchestrators."""

import logging

from django.db import connection, transaction
from django.http import HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django_q.brokers import get_broker

logger = logging.getLogger(__name__)


@never_cache
@transaction.non_atomic_requests
def healthz(request):
    """The process answers. Touches no database, so a DB outage does not restart web workers."""
    return HttpResponse("ok", content_type="text/plain")


def check_database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return "ok"


def check_queue() -> str:
    broker = get_broker()
    broker.ping()
    return broker.info()


@never_cache
@transaction.non_atomic_requests
def readyz(request):
    """Ready to serve: the database answers and the task queue's broker is reachable."""
    checks, ready = {}, True
    for name, check in (("database", check_database), ("queue", check_queue)):
        try:
            checks[name] = check()
        except Exception as exc:  # any failure means not ready; say which
            logger.warning("readiness check %s failed: %s", name, exc)
            checks[name] = f"error: {exc.__class__.__name__}"
            ready = False
    return JsonResponse({"ready": ready, "checks": checks}, status=200 if ready else 503)
