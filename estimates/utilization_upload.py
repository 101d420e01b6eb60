"""One CSV upload of GPU utilisation samples, shared by the portal page and the API so that both
apply the same limits, report the same errors and store the same rows."""

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError

from estimates import utilization
from estimates.models import UtilizationSource


@dataclass(frozen=True)
class UploadResult:
    """What became of an upload: the samples stored, or why nothing was.

    `errors` maps an input (`file`, `job`) to its messages; `rows` are the rejected rows,
    `{"line": n, "errors": {column: message}}`.
    """

    created: int = 0
    duplicates: int = 0
    errors: dict[str, list[str]] = field(default_factory=dict)
    rows: list[dict] = field(default_factory=list)

    @property
    def stored(self) -> bool:
        return not self.errors


def validate_size(file) -> None:
    """Validator for the upload forms' file field (Django forms and DRF serializers both take
    Django's ValidationError), so an oversized file is reported beside the other field errors."""
    try:
        utilization.check_size(file.size)
    except utilization.UploadError as exc:
        raise ValidationError(str(exc)) from exc


def upload_csv(
    organization, file, *, job="", provider="", region="", instance_type="", team=None
) -> UploadResult:
    """Store the samples of an nvidia-smi or DCGM exporter CSV file: all rows or none.

    `job`, `provider`, `region`, `instance_type` and `team` apply to every row (a DCGM row may
    name its own job). Re-uploading a file adds nothing; its samples count as duplicates.
    """
    defaults = {"job": job, "provider": provider, "region": region, "instance_type": instance_type}
    try:
        # Checked before reading, so that no caller loads an oversized file into memory.
        utilization.check_size(file.size)
        rows, row_errors = utilization.parse_csv(file.read(), defaults)
    except utilization.UploadError as exc:
        return UploadResult(errors={exc.field: [str(exc)]})
    if row_errors:
        message = f"{len(row_errors)} row(s) rejected; nothing was stored."
        return UploadResult(errors={"file": [message]}, rows=row_errors)
    created, duplicates = utilization.store(organization, rows, UtilizationSource.CSV, team)
    return UploadResult(created=created, duplicates=duplicates)
