"""GPU utilisation samples: storing them (idempotently) and reading nvidia-smi / DCGM CSV files.

Two CSV formats are accepted, told apart by their header:

- nvidia-smi: `nvidia-smi --query-gpu=timestamp,index,utilization.gpu,memory.used,memory.total
  --format=csv` (with or without `,nounits`): header
  `timestamp, index, utilization.gpu [%], memory.used [MiB], memory.total [MiB]`, values such as
  `2026/11/20 08:00:00.123, 0, 87 %, 30512 MiB, 40960 MiB`. It has no job column: the upload
  names the job.
- DCGM exporter: `timestamp, gpu, DCGM_FI_DEV_GPU_UTIL, DCGM_FI_DEV_FB_USED, DCGM_FI_DEV_FB_FREE`
  (MiB), optionally `Hostname` and `job`. The job is the row's `job`, else the upload's, else
  the row's `Hostname`; the card's memory is used + free.

Memory is stored in GB meaning GiB, as nvidia-smi reports it (MiB ÷ 1024). Timestamps may be
nvidia-smi's `YYYY/MM/DD HH:MM:SS.fff`, ISO 8601 or Unix seconds; without a time zone they are
UTC. A file is accepted whole or not at all: every rejected row is reported with its line number.
"""

import csv
import io
import math
from datetime import UTC, datetime

from django.core.exceptions import ValidationError
from django.db import transaction

from costsite.periods import check_past_time
from estimates.models import UtilizationSample

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
MIB_PER_GB = 1024  # GB here is GiB, as nvidia-smi reports memory
MAX_GPU_MEMORY_GB = 10_000.0
MAX_HOST_MEMORY_GB = 1_000_000.0
MAX_GPU_INDEX = 32_767
MAX_JOB_LENGTH = 200


class UploadError(ValueError):
    """The file as a whole cannot be read; `field` is the input to blame."""

    def __init__(self, message, field="file"):
        super().__init__(message)
        self.field = field


class RowError(ValueError):
    pass


# --- Storing -----------------------------------------------------------------------------------


def _stored_keys(organization, keys) -> set:
    """The (job, gpu_index, at) keys among `keys` already stored for the organization."""
    if not keys:
        return set()
    times = [at for _, _, at in keys]
    stored = UtilizationSample.objects.for_org(organization).filter(
        job__in={job for job, _, _ in keys}, at__gte=min(times), at__lte=max(times)
    )
    return set(stored.values_list("job", "gpu_index", "at")) & keys


def store(organization, rows: list[dict], source: str, team=None) -> tuple[int, int]:
    """Store validated sample rows (job and at required) atomically.

    A row whose (job, gpu_index, at) is already stored, or repeats an earlier row of the batch,
    is skipped. Returns (created, duplicates): created counts the rows this call added, measured
    in the database before and after the insert.
    """
    if team is not None and team.organization_id != organization.pk:
        raise ValueError("The team belongs to another organization.")
    samples = {}
    for row in rows:
        sample = UtilizationSample(organization=organization, team=team, source=source, **row)
        samples.setdefault((sample.job, sample.gpu_index, sample.at), sample)
    keys = set(samples)
    with transaction.atomic():
        before = _stored_keys(organization, keys)
        UtilizationSample.objects.bulk_create(
            [sample for key, sample in samples.items() if key not in before],
            batch_size=1000,
            ignore_conflicts=True,  # a concurrent upload of the same samples
        )
        created = len(_stored_keys(organization, keys)) - len(before)
    return created, len(rows) - created


# --- Checks shared with the JSON API -----------------------------------------------------------


def check_size(size: int) -> None:
    if size > MAX_UPLOAD_BYTES:
        raise UploadError(f"The file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB.")


def check_at(at: datetime) -> datetime:
    try:
        return check_past_time(at)
    except ValidationError:
        raise RowError(f"out of range: {at.isoformat()} is before 2000 or in the future") from None


def check_memory(used, total) -> None:
    if used is not None and total is not None and used > total:
        raise RowError(f"{used:g} GB used is more than the card's {total:g} GB")


# --- CSV ---------------------------------------------------------------------------------------

# Canonical column name → (sample field, unit in the header if any, required).
NVIDIA_SMI = {
    "timestamp": ("at", None, True),
    "index": ("gpu_index", None, True),
    "utilization.gpu": ("gpu_utilization", "%", True),
    "memory.used": ("gpu_memory_used_mib", "MiB", True),
    "memory.total": ("gpu_memory_total_mib", "MiB", False),
}
DCGM = {
    "timestamp": ("at", None, True),
    "gpu": ("gpu_index", None, True),
    "DCGM_FI_DEV_GPU_UTIL": ("gpu_utilization", "%", True),
    "DCGM_FI_DEV_FB_USED": ("gpu_memory_used_mib", "MiB", True),
    "DCGM_FI_DEV_FB_FREE": ("gpu_memory_free_mib", "MiB", False),
    "Hostname": ("hostname", None, False),
    "job": ("job", None, False),
}
FORMATS = {"nvidia-smi": NVIDIA_SMI, "DCGM exporter": DCGM}
MISSING = {"", "n/a", "[n/a]", "[not supported]", "[unknown error]"}


def _describe(kind: str) -> str:
    """The columns of a format as its header spells them (DCGM headers carry no units)."""
    described = []
    for name, (_, unit, required) in FORMATS[kind].items():
        if unit:
            name += f" [{unit}]" if kind == "nvidia-smi" else f" ({unit})"
        described.append(name if required else f"{name} (optional)")
    return ", ".join(described)


def accepted_columns() -> str:
    return "; ".join(f"{kind}: {_describe(kind)}" for kind in FORMATS)


def _split_unit(header: str) -> tuple[str, str | None]:
    """`memory.used [MiB]` → ("memory.used", "MiB")."""
    name = header.strip()
    if name.endswith("]") and " [" in name:
        name, unit = name[:-1].rsplit(" [", 1)
        return name.strip(), unit.strip()
    return name, None


def _read_header(header: list[str]) -> tuple[str, list[str]]:
    """(format name, the sample field of each column), or UploadError."""
    parsed = [_split_unit(h) for h in header]
    names = [name for name, _ in parsed]
    lowered = {name.lower() for name in names}
    if any(name.lower().startswith("dcgm_fi_") for name in names):
        kind = "DCGM exporter"
    elif "utilization.gpu" in lowered:
        kind = "nvidia-smi"
    else:
        raise UploadError(
            f"Unrecognised columns: {', '.join(names)}. Accepted columns: {accepted_columns()}."
        )
    columns = FORMATS[kind]
    by_name = {name.lower(): name for name in columns}
    fields = []
    for name, unit in parsed:
        canonical = by_name.get(name.lower())
        if canonical is None:
            raise UploadError(
                f"Unknown column {name!r} for the {kind} format. "
                f"Accepted columns: {_describe(kind)}."
            )
        field, expected_unit, _ = columns[canonical]
        if unit is not None and unit != expected_unit:
            raise UploadError(f"Column {canonical} is in [{unit}]; expected [{expected_unit}].")
        if field in fields:
            raise UploadError(f"Column {canonical} appears twice.")
        fields.append(field)
    missing = [
        name for name, (field, _, required) in columns.items() if required and field not in fields
    ]
    if missing:
        raise UploadError(
            f"Missing column(s) {', '.join(missing)} for the {kind} format. "
            f"Accepted columns: {_describe(kind)}."
        )
    return kind, fields


def _number(text: str, unit: str | None) -> float | None:
    value = text.strip()
    if value.lower() in MISSING:
        return None
    if unit and value.lower().endswith(unit.lower()):
        value = value[: -len(unit)].strip()
    try:
        number = float(value)
    except ValueError:
        raise RowError(f"not a number: {text.strip()!r}") from None
    if not math.isfinite(number):
        raise RowError(f"not a finite number: {text.strip()!r}")
    return number


def parse_time(text: str) -> datetime:
    value = text.strip()
    try:
        seconds = float(value)
    except ValueError:
        seconds = None
    try:
        if seconds is not None:
            at = datetime.fromtimestamp(seconds, UTC)
        elif "/" in value:
            fmt = "%Y/%m/%d %H:%M:%S.%f" if "." in value else "%Y/%m/%d %H:%M:%S"
            at = datetime.strptime(value, fmt)
        else:
            at = datetime.fromisoformat(value)
    except (ValueError, OverflowError, OSError):
        raise RowError(
            f"not a time: {value!r} (use 2026/11/20 08:00:00.123, ISO 8601 or Unix seconds)"
        ) from None
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return check_at(at)


def _convert(field: str, text: str, values: dict) -> None:
    """Put the value of one cell into `values` (raises RowError)."""
    if field == "at":
        values["at"] = parse_time(text)
    elif field == "gpu_index":
        number = _number(text, None)
        if number is None or not number.is_integer() or not 0 <= number <= MAX_GPU_INDEX:
            raise RowError(f"not a GPU index (0-{MAX_GPU_INDEX}): {text.strip()!r}")
        values["gpu_index"] = int(number)
    elif field == "gpu_utilization":
        number = _number(text, "%")
        if number is None or not 0 <= number <= 100:
            raise RowError(f"must be 0-100 %: {text.strip()!r}")
        values["gpu_utilization"] = number
    elif field.endswith("_mib"):
        number = _number(text, "MiB")
        if number is not None and number < 0:
            raise RowError(f"negative: {text.strip()!r}")
        if number is not None and number / MIB_PER_GB > MAX_GPU_MEMORY_GB:
            raise RowError(f"more than {MAX_GPU_MEMORY_GB:g} GB: {text.strip()!r}")
        values[field] = number
    else:  # job, hostname
        value = text.strip()
        if len(value) > MAX_JOB_LENGTH:
            raise RowError(f"longer than {MAX_JOB_LENGTH} characters")
        if "\x00" in value:
            raise RowError("contains a NUL character")
        values[field] = value


def _sample(values: dict, defaults: dict) -> dict:
    used, total, free = (values.get(f"gpu_memory_{name}_mib") for name in ("used", "total", "free"))
    if total is None and used is not None and free is not None:
        total = used + free
    used_gb = None if used is None else used / MIB_PER_GB
    total_gb = None if total is None else total / MIB_PER_GB
    return {
        "job": values.get("job") or defaults.get("job") or values.get("hostname", ""),
        "gpu_index": values["gpu_index"],
        "at": values["at"],
        "gpu_utilization": values["gpu_utilization"],
        "gpu_memory_used_gb": used_gb,
        "gpu_memory_total_gb": total_gb,
        "provider": defaults.get("provider", ""),
        "region": defaults.get("region", ""),
        "instance_type": defaults.get("instance_type", ""),
    }


def _decode(file_bytes: bytes) -> str:
    if not file_bytes.strip():
        raise UploadError("The file is empty.")
    check_size(len(file_bytes))
    # Undecodable bytes become lone surrogates, reported per row below.
    return file_bytes.decode("utf-8", errors="surrogateescape").removeprefix("\ufeff")


def _has_undecodable(cells: list[str]) -> bool:
    return any("\udc80" <= ch <= "\udcff" for cell in cells for ch in cell)


def parse_csv(file_bytes: bytes, defaults: dict) -> tuple[list[dict], list[dict]]:
    """(sample rows for `store`, row errors) from an nvidia-smi or DCGM exporter CSV file.

    `defaults`: job, provider, region, instance_type applied to every row. Row errors are
    `{"line": n, "errors": {column: message}}` with n the file's line number (the header is 1);
    a file-level problem raises UploadError.
    """
    reader = csv.reader(io.StringIO(_decode(file_bytes), newline=""), skipinitialspace=True)
    try:
        return _parse_rows(reader, defaults)
    except csv.Error as exc:  # e.g. a field over the csv module's size limit
        raise UploadError(f"Line {reader.line_num} cannot be read as CSV: {exc}") from None


def _parse_rows(reader, defaults: dict) -> tuple[list[dict], list[dict]]:
    header = next((row for row in reader if row), None)
    if header is None:
        raise UploadError("The file is empty.")
    if _has_undecodable(header):
        raise UploadError("The header is not UTF-8 text.")
    kind, fields = _read_header(header)
    if not {"job", "hostname"} & set(fields) and not defaults.get("job"):
        raise UploadError(f"Required: the {kind} format has no job column.", field="job")
    names = {field: name for name, (field, _, _) in FORMATS[kind].items()}
    rows, errors = [], []
    for cells in reader:
        if not any(cell.strip() for cell in cells):
            continue
        line_errors = {}
        values = {}
        if _has_undecodable(cells):
            line_errors["line"] = "not UTF-8 text"
        elif len(cells) != len(fields):
            line_errors["line"] = f"{len(cells)} values for {len(fields)} columns"
        else:
            for field, text in zip(fields, cells, strict=True):
                try:
                    _convert(field, text, values)
                except RowError as exc:
                    line_errors[names[field]] = str(exc)
        if not line_errors:
            sample = _sample(values, defaults)
            try:
                check_memory(sample["gpu_memory_used_gb"], sample["gpu_memory_total_gb"])
            except RowError as exc:
                line_errors[names["gpu_memory_used_mib"]] = str(exc)
            if not sample["job"]:
                line_errors["job"] = "empty: give a job column, the job field or a Hostname"
        if line_errors:
            errors.append({"line": reader.line_num, "errors": line_errors})
        else:
            rows.append(sample)
    if not rows and not errors:
        raise UploadError("The file has a header but no samples.")
    return rows, errors
