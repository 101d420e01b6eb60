"""Reminders of open budget alerts: every day until acknowledged, held while snoozed, only
while the period lasts, each sent once however many workers run the schedule."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from budgets import reminders
from budgets.models import Alert, AlertRule, Budget
from costsite.notify.channels import create_channel
from costsite.notify.models import ChannelKind, Delivery
from tests.conftest import api_client

FIRED = datetime(2026, 11, 10, 9, 0, tzinfo=UTC)


@pytest.fixture
def alert(org_a):
    channel = create_channel(org_a, "Ops", ChannelKind.EMAIL, "ops@example.com")
    budget = Budget.objects.create(organization=org_a, name="GPU", amount=Decimal("1000"))
    rule = AlertRule.objects.create(organization=org_a, budget=budget, percent=80)
    rule.channels.set([channel])
    made = Alert.objects.create(
        organization=org_a,
        rule=rule,
        budget=budget,
        period_start=date(2026, 11, 1),
        period_end=date(2026, 11, 30),
        kind="actual",
        percent=Decimal("80"),
        spent=Decimal("812.5"),
        forecast=Decimal("1300"),
        amount=Decimal("1000"),
        currency="USD",
    )
    Alert.objects.filter(pk=made.pk).update(fired_at=FIRED)
    return Alert.objects.get(pk=made.pk)


def sent():
    return list(Delivery.objects.filter(event=reminders.EVENT).order_by("pk"))


def test_an_open_alert_is_reminded_each_day(alert):
    assert reminders.remind_open_alerts(FIRED + timedelta(hours=23)) == 0
    assert reminders.remind_open_alerts(FIRED + timedelta(hours=24)) == 1
    assert reminders.remind_open_alerts(FIRED + timedelta(hours=30)) == 0
    assert reminders.remind_open_alerts(FIRED + timedelta(hours=48)) == 1
    first, _ = sent()
    assert first.payload["data"]["reminder"] is True
    assert first.payload["data"]["alert"] == {"id": alert.pk}
    assert first.payload["data"]["fired_at"] == FIRED.isoformat()
    assert first.payload["title"] == "Reminder: GPU: 80.00% of the budget spent"
    alert.refresh_from_db()
    assert alert.reminded_at == FIRED + timedelta(hours=48)


def test_acknowledging_stops_and_snoozing_holds_reminders(alert, org_a, alice):
    client = api_client(user=alice)
    url = f"/api/v1/orgs/org-a/alerts/{alert.pk}"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("django.utils.timezone.now", lambda: FIRED + timedelta(hours=1))
        snoozed = client.post(f"{url}/snooze", {"hours": 72}, format="json")
    assert snoozed.json()["snoozed_until"] == "2026-11-13T10:00:00Z"
    assert reminders.remind_open_alerts(FIRED + timedelta(hours=48)) == 0
    assert reminders.remind_open_alerts(FIRED + timedelta(hours=73)) == 1
    assert client.post(f"{url}/acknowledge").status_code == 200
    assert reminders.remind_open_alerts(FIRED + timedelta(days=5)) == 0
    assert len(sent()) == 1
    assert client.get(url).json()["reminded_at"] == "2026-11-13T10:00:00Z"


def test_no_reminder_once_the_period_ended_in_the_organizations_time_zone(alert, org_a):
    org_a.time_zone = "Pacific/Auckland"  # UTC+13 in November
    org_a.save()
    last_local_evening = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)  # 23:00 on the 30th there
    assert reminders.remind_open_alerts(last_local_evening) == 1
    next_local_morning = datetime(2026, 12, 1, 11, 0, tzinfo=UTC)  # 00:00 on 1 December there
    assert reminders.remind_open_alerts(next_local_morning) == 0


def test_a_reminder_is_sent_once_by_concurrent_runs(alert):
    now = FIRED + timedelta(days=1)
    [seen_by_one] = reminders.due(now)
    [seen_by_other] = reminders.due(now)
    assert reminders.remind(seen_by_one, now) is True
    assert reminders.remind(seen_by_other, now) is False
    assert len(sent()) == 1


def test_an_acknowledgement_or_snooze_after_the_run_read_the_alert_holds_it(alert, alice):
    now = FIRED + timedelta(days=1)
    [read] = reminders.due(now)
    Alert.objects.filter(pk=alert.pk).update(snoozed_until=now + timedelta(hours=4))
    assert reminders.remind(read, now) is False
    Alert.objects.filter(pk=alert.pk).update(snoozed_until=None)
    reminders.acknowledge(alert, alice)
    assert reminders.remind(read, now) is False
    assert sent() == []


def test_the_schedule_runs_reminders(db):
    from costsite.schedules import SCHEDULES

    func, kind, _ = SCHEDULES["budgets: remind open alerts"]
    assert (func, kind) == ("budgets.tasks.remind_open_alerts", "H")


def test_the_budget_page_snoozes_and_acknowledges(client, alert, org_a, member):
    finance = member(org_a, "finance")
    client.force_login(finance)
    page = f"/o/org-a/budgets/{alert.budget_id}/"
    assert "Snooze" in client.get(page).content.decode()
    refused = client.post(f"/o/org-a/budgets/alerts/{alert.pk}/snooze/", {"hours": "5"})
    assert refused.status_code == 302
    alert.refresh_from_db()
    assert alert.snoozed_until is None
    client.post(f"/o/org-a/budgets/alerts/{alert.pk}/snooze/", {"hours": "72"})
    alert.refresh_from_db()
    assert alert.snoozed_until > FIRED + timedelta(hours=72)
    assert "snoozed until" in client.get(page).content.decode()
    client.post(f"/o/org-a/budgets/alerts/{alert.pk}/acknowledge/")
    alert.refresh_from_db()
    assert alert.acknowledged_by == finance
    assert "Snooze" not in client.get(page).content.decode().split("Alert history")[1]
