"""Recording completed training runs from other apps (spot fleets), idempotently."""

from estimates.models import TrainingRun


def record(organization, external_id: str, values: dict) -> tuple[TrainingRun, bool]:
    return TrainingRun.objects.get_or_create(
        organization=organization, external_id=external_id, defaults=values
    )
