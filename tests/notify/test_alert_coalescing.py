"""Budget evaluations of one organization are coalesced through a shared (Redis) cache: one
queued task serves every expense that comes in before it starts, one runs at a time, and a
request during a run makes it go round again."""

import pytest

from budgets import alerts
from tests.cluster import REDIS_TEST_URL


@pytest.fixture
def redis_cache(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_TEST_URL,
        }
    }
    from django.core.cache import caches

    caches["default"].clear()
    yield caches["default"]
    caches["default"].clear()


@pytest.fixture
def queued(monkeypatch):
    """The evaluation tasks queued (not run)."""
    tasks = []
    monkeypatch.setattr(alerts, "async_task", lambda *args, **kwargs: tasks.append(args))
    return tasks


def test_expenses_before_the_queued_evaluation_starts_queue_no_other(org_a, redis_cache, queued):
    for _ in range(3):
        alerts.queue_now(org_a.pk)
    assert len(queued) == 1
    alerts.evaluate_organization(org_a.pk)  # started: the next expense needs a new task
    alerts.queue_now(org_a.pk)
    assert len(queued) == 2


def test_a_request_during_a_run_makes_it_go_round_again(org_a, redis_cache, queued, monkeypatch):
    rounds = []

    def evaluate_budgets(budgets):
        rounds.append(budgets)
        if len(rounds) == 1:
            alerts.queue_now(org_a.pk)  # an expense committed mid-round
        return []

    monkeypatch.setattr(alerts, "evaluate_budgets", evaluate_budgets)
    alerts.evaluate_organization(org_a.pk)
    assert len(rounds) == 2


def test_while_another_worker_evaluates_the_task_leaves_the_request_to_it(
    org_a, redis_cache, queued, monkeypatch
):
    monkeypatch.setattr(alerts, "evaluate_budgets", lambda budgets: pytest.fail("ran twice"))
    redis_cache.add(alerts.running_key(org_a.pk), 1)
    alerts.queue_now(org_a.pk)
    assert alerts.evaluate_organization(org_a.pk) == []
    assert redis_cache.get(alerts.pending_key(org_a.pk))  # the running one goes round for it


def test_without_a_shared_cache_every_request_is_a_task(org_a, queued):
    for _ in range(3):
        alerts.queue_now(org_a.pk)
    assert len(queued) == 3


def test_an_evaluation_is_queued_only_once_the_writing_transaction_commits(
    org_a, queued, django_capture_on_commit_callbacks
):
    """A worker must see what the request wrote: nothing is queued before the commit."""
    with django_capture_on_commit_callbacks(execute=True):
        alerts.queue_evaluation(org_a.pk)
        assert queued == []
    assert queued == [("budgets.tasks.evaluate_organization", org_a.pk)]
