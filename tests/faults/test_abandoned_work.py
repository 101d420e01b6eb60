"""What a worker killed half-way through an interruption leaves behind, repaired by the poll
(every database; tests/faults/test_worker_kill.py kills a real worker there on PostgreSQL)."""

from django.utils import timezone

from budgets.models import Expense, ExpenseSource
from spot import tasks
from spot.models import Attempt, AttemptState, EndReason, FleetStatus


def test_the_poll_refills_and_charges_what_a_dead_interruption_handler_left(make_fleet, commit):
    fleet = make_fleet()
    first = fleet.attempts.get()
    # The handler claimed the attempt, then died: the fleet still says running, with no
    # instance, and the ended attempt is not charged; the event's retry finds it claimed.
    Attempt.objects.filter(pk=first.pk).update(
        state=AttemptState.INTERRUPTED, ended_at=timezone.now(), end_reason=EndReason.INTERRUPTED
    )
    for _ in range(2):  # and a second poll changes nothing
        commit(tasks.poll_fleets)
        fleet.refresh_from_db()
        assert fleet.status == FleetStatus.RUNNING
        assert fleet.attempts.filter(state=AttemptState.RUNNING).count() == 1
        assert fleet.attempts.count() == 2
        first.refresh_from_db()
        assert first.charged
        spot = Expense.objects.for_org(fleet.organization).filter(source=ExpenseSource.SPOT)
        assert list(spot.values_list("external_id", flat=True)) == [f"spot-attempt-{first.pk}"]
