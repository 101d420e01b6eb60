"""Streaming parser for FOCUS billing exports (FinOps Open Cost and Usage Specification 1.0-1.2).

Accepted input
--------------
- A CSV file, or the same CSV compressed with gzip (detected by its magic bytes, not by its name).
  ZIP, Parquet and UTF-16 files are recognised and refused with a message saying so.
- UTF-8 text; a leading byte-order mark is ignored. Any other encoding is refused, naming the line.
- The first non-blank line is the header. Columns may come in any order; names are matched
  case-sensitively, as FOCUS spells them, ignoring surrounding spaces. Extra columns are allowed.
- Required columns: BillingCurrency, ChargePeriodStart, ChargePeriodEnd, the cost column chosen
  (one of ``COST_COLUMNS``; BilledCost by default) and the provider's name under either of its
  names: ``ProviderName`` (FOCUS 1.0, 1.1 and 1.2) or ``ServiceProviderName`` (the newer name
  that replaces the deprecated ProviderName); ServiceProviderName wins when both are present.
  Every other column those versions define is optional here.
- Optional columns read (as "" when absent): ``OPTIONAL_COLUMNS`` - ServiceName, ServiceCategory,
  RegionId, ResourceId, SubAccountId, PricingCategory, CommitmentDiscountId, ChargeCategory,
  ChargeDescription, Tags.
- Empty values: an empty field or the literal ``NULL`` (quoted or not), surrounding spaces ignored.
- Costs: exact decimals (never floats), finite, at most 1e12 in magnitude.
- Date-times: ISO 8601 as FOCUS files write them: ``2024-09-18 22:00:00``, ``2024-09-18T22:00:00Z``,
  ``...+00:00``, with or without fractional seconds. Values without an offset are UTC; all are
  returned as aware UTC datetimes, and must be plausible times of spend: from 2000 to a year
  from now (``costsite.periods.check_plausible_time``, as the API checks them).
  ChargePeriodEnd must not be before ChargePeriodStart.
- Tags, when present, must be a JSON object.

Results
-------
``read_rows`` yields one ``FocusRow`` per valid record and one ``RowError`` per invalid record
(all of its problems in one reason, each naming its column), holding ``CHUNK_BYTES`` of text
in memory at a time. A problem with the file as a whole raises ``FocusFileError`` - at once for
the header, or during iteration for damage found further on (corrupt gzip, non-UTF-8 bytes, the
size limit), so a caller storing rows as they come should do so in a transaction.

``FocusRow.external_id`` is a de-duplication key that stays the same when the same record is read
again, from this file or another with the same columns: the first 40 hex digits of the SHA-256
of all the record's columns, names and values, sorted by column name (values stripped, NULL and ""
both written as ""), then ``:n``, where n counts identical records earlier in the same file (so
two identical lines are both kept). It does not depend on column order, on quoting, on the cost
column chosen, on a byte-order mark or on gzip. Counting repeats keeps 24-48 bytes per distinct
record; everything else uses constant memory.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import hashlib
import io
import json
import zlib
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from itertools import chain, compress, repeat
from operator import itemgetter
from typing import BinaryIO

from django.core.exceptions import ValidationError

from costsite.periods import check_plausible_time

COST_COLUMNS = ("BilledCost", "EffectiveCost", "ListCost", "ContractedCost")
PROVIDER_COLUMNS = ("ServiceProviderName", "ProviderName")  # preferred first
DEFAULT_MAX_UNCOMPRESSED_BYTES = 2 * 1024**3
MAX_LINE_BYTES = 1024**2
MAX_AMOUNT = Decimal("1e12")
DESCRIPTION_LENGTH = 500

OPTIONAL_COLUMNS = (
    "ServiceName",
    "ServiceCategory",
    "RegionId",
    "ResourceId",
    "SubAccountId",
    "PricingCategory",
    "CommitmentDiscountId",
    "ChargeCategory",
    "ChargeDescription",
    "Tags",
)
_PROVIDERS = {
    "aws": "aws",
    "amazon": "aws",
    "amazon web services": "aws",
    "amazon web services, inc.": "aws",
    "azure": "azure",
    "microsoft": "azure",
    "microsoft azure": "azure",
    "microsoft corporation": "azure",
    "gcp": "gcp",
    "google": "gcp",
    "google cloud": "gcp",
    "google cloud platform": "gcp",
}
_GZIP_MAGIC = b"\x1f\x8b"
_REFUSED_MAGIC = (
    (b"PK\x03\x04", "a ZIP archive"),
    (b"PAR1", "a Parquet file"),
    (b"\xff\xfe", "UTF-16 text"),
    (b"\xfe\xff", "UTF-16 text"),
)


class FocusFileError(ValueError):
    """The file as a whole is unusable; the message is meant for a person."""


@dataclass(frozen=True)
class FocusRow:
    line: int  # 1-based physical line where the record starts (the header is line 1)
    amount: Decimal
    currency: str
    provider: str
    provider_name: str
    service: str
    service_category: str
    region: str
    resource_id: str
    sub_account: str
    charge_period_start: datetime
    charge_period_end: datetime
    purchase_type: str  # "spot", "commitment" or "on_demand"
    charge_category: str
    tags: dict
    description: str
    external_id: str


@dataclass
class RowError:
    line: int
    reason: str


def normalise_provider(name: str) -> str:
    """A short provider key: aws, azure or gcp for those, else the name lower-cased, spaces → -."""
    key = " ".join(name.lower().split())
    return _PROVIDERS.get(key) or key.replace(" ", "-")


# -- bytes to text ---------------------------------------------------------------------------

CHUNK_BYTES = 256 * 1024  # read and decoded at once, as whole lines


class _Prefixed(io.RawIOBase):
    """A readable stream: the bytes already read to sniff the format, then the rest of `stream`."""

    def __init__(self, prefix: bytes, stream: BinaryIO):
        self._prefix = prefix
        self._stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self._prefix:
            data, self._prefix = self._prefix[: len(buffer)], self._prefix[len(buffer) :]
        else:
            data = self._stream.read(len(buffer)) or b""
        buffer[: len(data)] = data
        return len(data)


def _split_lines(text: str) -> list[str]:
    """`text`, which ends with a newline, cut after each newline ("\\n") and nowhere else: the
    physical lines csv needs (a lone "\\r" or a "\\u2028", say, is inside a line)."""
    lines = text.splitlines(keepends=True)  # cuts after each "\n", and perhaps elsewhere too
    if all(map(str.endswith, lines, repeat("\n"))):
        return lines
    lines = text.split("\n")
    lines.pop()
    return [line + "\n" for line in lines]


class _Utf8Lines:
    """The lines of a binary stream, decoded so errors can name the line, counting the bytes.

    Iterating gives the lines. They are decoded CHUNK_BYTES at a time, yet each error is the one
    reading line by line would meet, at the same point: the lines before it are given first. A
    line may have at most MAX_LINE_BYTES, the whole at most `max_bytes` (so a gzip bomb stops
    early), and gzip data is read a buffer at a time, as readline reads it.
    """

    def __init__(self, source, *, max_bytes: int, gzipped: bool):
        self._source = source
        self._max_bytes = max_bytes
        self._gzipped = gzipped
        self._bytes = 0  # in the lines given so far
        self._line = 0
        self.saw_nul = False  # in a line given so far

    def __iter__(self) -> Iterator[str]:
        return chain.from_iterable(self._batches())

    def _batches(self) -> Iterator[list[str]]:
        pending = b""  # the start of a line
        while True:
            new, failure = self._read()
            data = pending + new if pending else new
            cut = data.rfind(b"\n") + 1
            if cut:
                lines = self._decode_block(data[:cut])
                if lines is None:
                    yield from self._decode_each(data[:cut])
                else:
                    yield lines
            pending = data[cut:]
            if len(pending) > min(self._max_bytes - self._bytes, MAX_LINE_BYTES):
                yield from self._decode_each(pending)  # raises: line too long, or file too big
            if failure is not None:
                raise FocusFileError(
                    f"The gzip data is corrupt or truncated (after line {self._line}): {failure}"
                )
            if not new:
                if pending:
                    yield from self._decode_each(pending)
                return

    def _read(self) -> tuple[bytes, Exception | None]:
        """At least CHUNK_BYTES more bytes (b"" at the end), and the gzip error that stopped
        reading, if any."""
        if not self._gzipped:
            return self._source.read(CHUNK_BYTES), None
        parts, size = [], 0
        try:
            # a buffer's worth at a time, as readline reads: damage is met at the same line
            while size < CHUNK_BYTES and (part := self._source.peek(1)):
                parts.append(self._source.read(len(part)))
                size += len(part)
        except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
            return b"".join(parts), exc
        return b"".join(parts), None

    def _decode_block(self, block: bytes) -> list[str] | None:
        """The lines of `block` (whole lines), or None if one has a problem."""
        first = block.find(b"\n") + 1
        if (
            self._bytes + len(block) > self._max_bytes
            or first > MAX_LINE_BYTES
            or len(block) - first > MAX_LINE_BYTES
        ):
            return None
        bom = self._line == 0 and block.startswith(codecs.BOM_UTF8)
        try:
            text = block[len(codecs.BOM_UTF8) :].decode() if bom else block.decode()
        except UnicodeDecodeError:
            return None
        lines = _split_lines(text)
        self.saw_nul = self.saw_nul or "\x00" in text
        self._bytes += len(block)
        self._line += len(lines)
        return lines

    def _decode_each(self, block: bytes) -> Iterator[list[str]]:
        """The lines of `block` up to the first with a problem, then that problem's error."""
        lines, start = [], 0
        try:
            while start < len(block):
                end = block.find(b"\n", start) + 1 or len(block)
                lines.append(self._decode_line(block[start:end]))
                start = end
        except FocusFileError:
            if lines:
                yield lines
            raise
        yield lines

    def _decode_line(self, data: bytes) -> str:
        room = self._max_bytes - self._bytes
        data = data[: min(room, MAX_LINE_BYTES) + 1]  # as much as readline would have read
        offset = self._bytes
        self._bytes += len(data)
        self._line += 1
        if len(data) > room:
            size = "uncompressed size" if self._gzipped else "size"
            raise FocusFileError(
                f"The file's {size} exceeds the limit of {self._max_bytes:,} bytes "
                f"(stopped at line {self._line})."
            )
        if len(data) > MAX_LINE_BYTES:
            raise FocusFileError(f"Line {self._line} is longer than {MAX_LINE_BYTES:,} bytes.")
        if self._line == 1 and data.startswith(codecs.BOM_UTF8):
            data = data[len(codecs.BOM_UTF8) :]
            offset += len(codecs.BOM_UTF8)
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise FocusFileError(
                f"Line {self._line} is not valid UTF-8 (byte {exc.start + 1} of the line, "
                f"byte {offset + exc.start + 1} of the {'uncompressed ' * self._gzipped}file); "
                "export the file as UTF-8."
            ) from None
        self.saw_nul = self.saw_nul or "\x00" in text
        return text


def _utf8_lines(stream: BinaryIO, max_bytes: int) -> _Utf8Lines:
    head = b""
    while len(head) < 4 and (chunk := stream.read(4 - len(head))):
        head += chunk
    for magic, kind in _REFUSED_MAGIC:
        if head.startswith(magic):
            raise FocusFileError(
                f"This looks like {kind}; upload the FOCUS export as CSV (UTF-8), "
                "optionally gzip-compressed."
            )
    source = io.BufferedReader(_Prefixed(head, stream), 1 << 16)
    gzipped = head.startswith(_GZIP_MAGIC)
    if gzipped:
        source = gzip.GzipFile(fileobj=source, mode="rb")
    return _Utf8Lines(source, max_bytes=max_bytes, gzipped=gzipped)


# -- values ----------------------------------------------------------------------------------


def _show(value: str) -> str:
    return repr(value if len(value) <= 40 else value[:40] + "…")


def _parse_amount(text: str) -> Decimal:
    if not text:
        raise ValueError("is empty")
    # Decimal() would also take "1_000" and non-ASCII digits; a CSV number has neither.
    if not text.isascii() or "_" in text:
        raise ValueError(f"{_show(text)} is not a number")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{_show(text)} is not a number") from None
    if not amount.is_finite():
        raise ValueError(f"{_show(text)} is not a finite number")
    if abs(amount) >= MAX_AMOUNT:  # the expense column holds 12 digits before the point
        raise ValueError(f"{_show(text)} is implausibly large ({MAX_AMOUNT:,.0f} or more)")
    return amount


def _parse_datetime(text: str) -> datetime:
    if not text:
        raise ValueError("is empty")
    if len(text) < 16 or text[4] != "-" or text[7] != "-" or text[10] not in ("T", " "):
        raise ValueError(f"{_show(text)} is not a date-time like 2024-09-18T22:00:00Z")
    try:
        value = datetime.fromisoformat(text)
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except (ValueError, OverflowError):
        raise ValueError(f"{_show(text)} is not a date-time like 2024-09-18T22:00:00Z") from None
    try:
        return check_plausible_time(value)
    except ValidationError as exc:
        raise ValueError(f"{_show(text)} is out of range: {exc.messages[0]}") from None


class _RepeatCounter:
    """How often each 64-bit key was counted before. An open-addressing hash table in two arrays
    (keys, counts), at most half full: 24-48 bytes per distinct key, where a dict of ints costs
    ~100, and nothing more for repeats."""

    def __init__(self) -> None:
        self._keys = array("Q", bytes(8 * 1024))
        self._counts = array("I", bytes(4 * 1024))
        self._used = 0

    def count(self, key: int) -> int:
        """How many times `key` (non-zero) was counted before; then count it once more."""
        keys = self._keys
        mask = len(keys) - 1
        i = key & mask
        while k := keys[i]:
            if k == key:
                n = self._counts[i]
                self._counts[i] = n + 1
                return n
            i = (i + 1) & mask
        keys[i] = key
        self._counts[i] = 1
        self._used += 1
        if 2 * self._used > len(keys):
            self._grow()
        return 0

    def _grow(self) -> None:
        old_keys, old_counts = self._keys, self._counts
        size = 2 * len(old_keys)
        keys, counts = array("Q", bytes(8 * size)), array("I", bytes(4 * size))
        mask = size - 1
        for key, n in zip(compress(old_keys, old_counts), filter(None, old_counts), strict=True):
            i = key & mask
            while keys[i]:
                i = (i + 1) & mask
            keys[i], counts[i] = key, n
        self._keys, self._counts = keys, counts


# -- rows ------------------------------------------------------------------------------------


class _Columns:
    """Where each needed column is, for one header."""

    def __init__(self, header: list[str], cost_column: str):
        self.names = [name.strip() for name in header]
        index = {}
        for i, name in enumerate(self.names):
            if name in index:
                raise FocusFileError(f"The header names the column {name!r} twice.")
            index[name] = i
        self.provider_column = next((c for c in PROVIDER_COLUMNS if c in index), "ProviderName")
        required = (
            self.provider_column,
            "BillingCurrency",
            "ChargePeriodStart",
            "ChargePeriodEnd",
            cost_column,
        )
        missing = [name for name in required if name not in index]
        if missing:
            if "ProviderName" in missing:
                missing[missing.index("ProviderName")] = "ProviderName (or ServiceProviderName)"
            found = ", ".join(self.names[:8]) + (", …" if len(self.names) > 8 else "")
            raise FocusFileError(
                f"This is not a FOCUS export: required column(s) missing: {', '.join(missing)} "
                f"(the header has: {found or 'nothing'})."
            )
        self.required = [index[name] for name in required]
        absent = len(self.names)  # rows get one extra "" so absent columns read as ""
        self.optional = {name: index.get(name, absent) for name in OPTIONAL_COLUMNS}


def read_rows(
    stream: BinaryIO,
    *,
    cost_column: str = "BilledCost",
    max_uncompressed_bytes: int = DEFAULT_MAX_UNCOMPRESSED_BYTES,
) -> Iterator[FocusRow | RowError]:
    """Records of a FOCUS export, one at a time: a FocusRow if valid, else a RowError.

    The header is read and checked at once (FocusFileError if unusable); the rows as iterated.
    """
    if cost_column not in COST_COLUMNS:
        raise ValueError(f"cost_column must be one of {', '.join(COST_COLUMNS)}")
    lines = _utf8_lines(stream, max_uncompressed_bytes)
    reader = csv.reader(lines)
    try:
        header = next((row for row in reader if row), None)
    except csv.Error as exc:
        raise FocusFileError(f"The header line cannot be read as CSV: {exc}") from None
    if header is None:
        raise FocusFileError("The file is empty: no header line.")
    return _records(reader, lines, _Columns(header, cost_column), cost_column)


class _Rules:
    """The checks of one record, written plainly: `_records` takes a shortcut for the records
    that pass them all and leaves every other record to `record`, which gives the same result."""

    def __init__(self, c: _Columns, cost_column: str):
        self.columns = c
        self.cost_column = cost_column
        self.width = len(c.names)
        # external_id: the column names (sorted) are hashed once, each row's values in that order
        self.order = sorted(range(self.width), key=c.names.__getitem__)
        self.prefix = hashlib.sha256(b"focus-row-v1\n")
        self.prefix.update(json.dumps([c.names[i] for i in self.order]).encode() + b"\n")
        self.repeats = _RepeatCounter()
        self.providers = _Memo(normalise_provider)

    def record(self, row: list[str], line: int) -> FocusRow | RowError:
        if len(row) != self.width:
            found = len(row)
            return RowError(line, f"expected {self.width} columns as in the header, found {found}")
        values = [("" if (v := raw.strip()) == "NULL" else v) for raw in row]
        cost_column, column = self.cost_column, self.columns.optional
        i_provider, i_currency, i_start, i_end, i_cost = self.columns.required

        problems = []
        provider_name = values[i_provider]
        if not provider_name:
            problems.append(f"{self.columns.provider_column} is empty")
        currency = values[i_currency]
        if not (len(currency) == 3 and currency.isascii() and currency.isalpha()):
            problems.append(f"BillingCurrency {_show(currency)} is not a 3-letter currency code")
        try:
            amount = _parse_amount(values[i_cost])
        except ValueError as exc:
            problems.append(f"{cost_column} {exc}")
        try:
            start = _parse_datetime(values[i_start])
        except ValueError as exc:
            start = None
            problems.append(f"ChargePeriodStart {exc}")
        try:
            end = _parse_datetime(values[i_end])
        except ValueError as exc:
            end = None
            problems.append(f"ChargePeriodEnd {exc}")
        if start and end and end < start:
            problems.append(
                f"ChargePeriodEnd {_show(values[i_end])} is before "
                f"ChargePeriodStart {_show(values[i_start])}"
            )
        values.append("")  # what absent optional columns point at
        tags = {}
        if tags_text := values[column["Tags"]]:
            try:
                tags = json.loads(tags_text)
            except (ValueError, RecursionError):
                problems.append("Tags is not valid JSON")
            else:
                if not isinstance(tags, dict):
                    problems.append("Tags is not a JSON object")
        if problems:
            return RowError(line, "; ".join(problems))

        ordered = [values[i] for i in self.order]
        payload = "\x00".join(ordered)
        if payload.count("\x00") != self.width - 1:  # a value holds NUL: use an unambiguous form
            payload = json.dumps(ordered)
        pricing = values[column["PricingCategory"]]
        if pricing == "Dynamic":
            purchase_type = "spot"
        elif pricing == "Committed" or values[column["CommitmentDiscountId"]]:
            purchase_type = "commitment"
        else:
            purchase_type = "on_demand"
        return FocusRow(
            line=line,
            amount=amount,
            currency=currency.upper(),
            provider=self.providers[provider_name],
            provider_name=provider_name,
            service=values[column["ServiceName"]],
            service_category=values[column["ServiceCategory"]],
            region=values[column["RegionId"]],
            resource_id=values[column["ResourceId"]],
            sub_account=values[column["SubAccountId"]],
            charge_period_start=start,
            charge_period_end=end,
            purchase_type=purchase_type,
            charge_category=values[column["ChargeCategory"]],
            tags=tags,
            description=values[column["ChargeDescription"]][:DESCRIPTION_LENGTH],
            external_id=self.external_id(payload),
        )

    def external_id(self, payload: str) -> str:
        digest = self.prefix.copy()
        digest.update(payload.encode())
        raw_id = digest.digest()
        n = self.repeats.count(int.from_bytes(raw_id[:8], "big") or 1)
        return f"{raw_id[:20].hex()}:{n}"


class _Memo(dict):
    """`memo[key]` is function(key), remembered (falsy results too) for up to `size` keys at a
    time."""

    def __init__(self, function, size: int = 1024):
        super().__init__()
        self.function, self.size = function, size

    def __missing__(self, key):
        if len(self) >= self.size:
            self.clear()
        value = self[key] = self.function(key)
        return value


# The shortcut's checks: a value, or None where _Rules.record will say what is wrong.


def _valid_currency(text: str) -> str | None:
    return text.upper() if len(text) == 3 and text.isascii() and text.isalpha() else None


def _valid_datetime(text: str) -> datetime | None:
    try:
        return _parse_datetime(text)
    except ValueError:
        return None


_SCALARS = (str, int, float, bool, type(None))
_UNSHARED = object()  # Tags holding lists or objects: parsed each time, never shared


def _valid_tags(text: str) -> dict | object | None:
    try:
        tags = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if not isinstance(tags, dict):
        return None
    if len(text) > 4096 or any(type(value) not in _SCALARS for value in tags.values()):
        return _UNSHARED
    return tags  # handed out as copies


_MIN_AMOUNT = -MAX_AMOUNT


def _records(
    reader, lines: _Utf8Lines, c: _Columns, cost_column: str
) -> Iterator[FocusRow | RowError]:
    """Valid records are built here, the quick way; any other goes to _Rules.record. The quick
    way repeats, inline, the external id and purchase type of _Rules.record: calling them costs
    an eighth of the parse time. tests/budgets/test_focus_speed_parity.py keeps both the same."""
    rules = _Rules(c, cost_column)
    width = rules.width
    by_name = itemgetter(*rules.order)
    position = {column: n for n, column in enumerate(rules.order)}
    position[width] = width  # absent optional columns: the "" appended
    pick = itemgetter(
        *[position[i] for i in (*c.required, *[c.optional[name] for name in OPTIONAL_COLUMNS])]
    )
    prefix_copy, count, providers = rules.prefix.copy, rules.repeats.count, rules.providers
    currencies, datetimes = _Memo(_valid_currency), _Memo(_valid_datetime, 4096)
    known_tags = _Memo(_valid_tags, 512)
    strip, new, setattr_ = str.strip, object.__new__, object.__setattr__
    end_line = reader.line_num
    while True:
        try:
            for row in reader:
                line, end_line = end_line + 1, reader.line_num
                if len(row) != width:
                    if row:  # else a blank line
                        yield rules.record(row, line)
                    continue
                values = list(map(strip, by_name(row)))
                if "NULL" in values:
                    values = [("" if value == "NULL" else value) for value in values]
                payload = "\x00".join(values)
                values.append("")
                (
                    provider_name,
                    currency,
                    start,
                    end,
                    cost,
                    service,
                    service_category,
                    region,
                    resource_id,
                    sub_account,
                    pricing,
                    commitment,
                    charge_category,
                    description,
                    tags,
                ) = pick(values)
                currency = currencies[currency]
                start = datetimes[start]
                end = datetimes[end]
                if tags:
                    text, tags = tags, known_tags[tags]
                    if tags is _UNSHARED:
                        tags = json.loads(text)
                    elif tags is not None:
                        tags = tags.copy()
                else:
                    tags = {}
                try:
                    amount = Decimal(cost)
                    valid = _MIN_AMOUNT < amount < MAX_AMOUNT  # raises for NaN
                except InvalidOperation:
                    valid = False
                if not (
                    valid
                    and cost.isascii()
                    and "_" not in cost
                    and currency
                    and start
                    and end
                    and end >= start
                    and tags is not None
                    and provider_name
                    and not (lines.saw_nul and payload.count("\x00") != width - 1)
                ):
                    yield rules.record(row, line)
                    continue
                digest = prefix_copy()
                digest.update(payload.encode())
                raw_id = digest.digest()
                n = count(int.from_bytes(raw_id[:8], "big") or 1)
                if pricing == "Dynamic":
                    purchase_type = "spot"
                elif pricing == "Committed" or commitment:
                    purchase_type = "commitment"
                else:
                    purchase_type = "on_demand"
                # FocusRow(...) without the frozen dataclass's __init__ (a setattr a field)
                record = new(FocusRow)
                setattr_(
                    record,
                    "__dict__",
                    {
                        "line": line,
                        "amount": amount,
                        "currency": currency,
                        "provider": providers[provider_name],
                        "provider_name": provider_name,
                        "service": service,
                        "service_category": service_category,
                        "region": region,
                        "resource_id": resource_id,
                        "sub_account": sub_account,
                        "charge_period_start": start,
                        "charge_period_end": end,
                        "purchase_type": purchase_type,
                        "charge_category": charge_category,
                        "tags": tags,
                        "description": description[:DESCRIPTION_LENGTH],
                        "external_id": f"{raw_id[:20].hex()}:{n}",
                    },
                )
                yield record
            return
        except csv.Error as exc:
            line, end_line = end_line + 1, reader.line_num
            yield RowError(line, f"unreadable CSV: {exc}")


def parse(stream: BinaryIO, **kwargs) -> tuple[list[FocusRow], list[RowError], int]:
    """Everything at once: (rows, errors, number of records). Takes read_rows' keywords."""
    rows, errors = [], []
    for record in read_rows(stream, **kwargs):
        (rows if isinstance(record, FocusRow) else errors).append(record)
    return rows, errors, len(rows) + len(errors)
