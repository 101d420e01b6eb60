"""budgets.focus: parsing FOCUS exports (no database).

Sample data: tests/budgets/data/focus_1.0_sample_1000.csv (see the README there).
"""

import csv
import gzip
import hashlib
import io
import time
import tracemalloc
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from budgets.focus import (
    COST_COLUMNS,
    FocusFileError,
    FocusRow,
    RowError,
    _RepeatCounter,
    _utf8_lines,
    normalise_provider,
    parse,
    read_rows,
)

SAMPLE = Path(__file__).resolve().parent / "data" / "focus_1.0_sample_1000.csv"


def sample_table():
    """(header, rows) of the sample, as csv reads them."""
    with SAMPLE.open(newline="", encoding="utf-8") as f:
        header, *rows = csv.reader(f)
    return header, rows


def to_csv(header, rows, *, quote_all=True) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode()


def parse_bytes(data: bytes, **kwargs):
    return parse(io.BytesIO(data), **kwargs)


def parse_file(path=SAMPLE, **kwargs):
    with path.open("rb") as f:
        return parse(f, **kwargs)


def ids(rows):
    return [row.external_id for row in rows]


@pytest.fixture(scope="module")
def sample():
    return parse_file()


@pytest.fixture(scope="module")
def table():
    return sample_table()


# -- the real sample -------------------------------------------------------------------------


def test_sample_parses_completely(sample):
    rows, errors, total = sample
    assert (len(rows), errors, total) == (1000, [], 1000)
    assert sum(row.amount for row in rows) == Decimal("20.52022672899")
    assert [row.line for row in rows] == list(range(2, 1002))
    assert {row.currency for row in rows} == {"USD"}
    for row in rows:
        assert isinstance(row.amount, Decimal)
        assert row.charge_period_start.tzinfo is UTC and row.charge_period_end.tzinfo is UTC
        assert row.charge_period_end >= row.charge_period_start
    assert len(set(ids(rows))) == 1000
    assert all(row.external_id.endswith(":0") and len(row.external_id) == 42 for row in rows)


def test_sample_providers(sample, table):
    header, raw = table
    names = Counter(r[header.index("ProviderName")] for r in raw)
    assert names == {"AWS": 942, "Microsoft": 51, "Oracle": 7}
    rows = sample[0]
    assert Counter(row.provider_name for row in rows) == names
    assert Counter(row.provider for row in rows) == {"aws": 942, "azure": 51, "oracle": 7}


def test_sample_other_cost_columns_sum_like_csv_and_decimal(table):
    header, raw = table
    for column in ("EffectiveCost", "ListCost"):
        expected = sum(Decimal(r[header.index(column)]) for r in raw)
        rows, errors, _ = parse_file(cost_column=column)
        assert errors == []
        assert sum(row.amount for row in rows) == expected
    assert expected != Decimal("20.52022672899")  # a different column really was read


def test_sample_null_cost_is_a_row_error(table):
    """ContractedCost is NULL on the 7 Oracle rows: those rows fail, the rest parse."""
    header, raw = table
    rows, errors, total = parse_file(cost_column="ContractedCost")
    null_lines = [i for i, r in enumerate(raw, 2) if r[header.index("ContractedCost")] == "NULL"]
    assert [e.line for e in errors] == null_lines and len(null_lines) == 7
    assert all("ContractedCost is empty" in e.reason for e in errors)
    assert (len(rows), total) == (993, 1000)


def test_sample_fields(sample):
    rows = sample[0]
    first = rows[0]
    assert first.line == 2
    assert first.amount == Decimal("0.00000080000")
    assert (first.provider, first.provider_name) == ("aws", "AWS")
    assert first.service == "Amazon Simple Queue Service"
    assert first.service_category == "Integration"
    assert first.region == "us-west-2"
    assert first.resource_id.startswith("arn:ats:sqs:")
    assert first.sub_account == "51738928782"
    assert first.charge_period_start == datetime(2024, 9, 18, 22, tzinfo=UTC)
    assert first.charge_period_end == datetime(2024, 9, 18, 23, tzinfo=UTC)
    assert (first.purchase_type, first.charge_category, first.tags) == ("on_demand", "Usage", {})
    assert first.description.startswith("$0.40 per million Amazon SQS")
    assert rows[1].tags == {
        "application": "BrightLensMatrix",
        "environment": "dev",
        "business_unit": "ViennaAI",
    }
    assert Counter(row.purchase_type for row in rows) == {"on_demand": 996, "commitment": 4}
    assert Counter(row.charge_category for row in rows) == {
        "Usage": 997,
        "Adjustment": 2,
        "Credit": 1,
    }
    oracle = [row for row in rows if row.provider == "oracle"]
    assert all(row.service_category for row in oracle)  # "" (not NULL) in that part of the file


def test_frozen_row(sample):
    with pytest.raises(AttributeError):
        sample[0][0].amount = Decimal(0)


# -- external ids ----------------------------------------------------------------------------


def test_ids_stable_on_reparse(sample):
    with SAMPLE.open("rb") as f:
        assert ids(parse(f)[0]) == ids(sample[0])
        assert not f.closed  # the caller's stream is left open


def test_ids_independent_of_column_order_quoting_and_cost_column(sample, table, tmp_path):
    header, raw = table
    order = list(reversed(range(len(header))))
    reordered = tmp_path / "reordered.csv"
    data = to_csv([header[i] for i in order], [[r[i] for i in order] for r in raw], quote_all=False)
    reordered.write_bytes(data)
    rows, errors, _ = parse_file(reordered)
    assert errors == []
    assert ids(rows) == ids(sample[0])
    assert sum(row.amount for row in rows) == Decimal("20.52022672899")
    assert ids(parse_file(cost_column="EffectiveCost")[0]) == ids(sample[0])


def test_ids_same_from_gzip_and_with_bom(sample, tmp_path):
    data = SAMPLE.read_bytes()
    variants = {
        "gz.bin": gzip.compress(data),  # detected by content, not by name
        "bom.csv": b"\xef\xbb\xbf" + data,
        "bom.csv.gz": gzip.compress(b"\xef\xbb\xbf" + data),
        "crlf.csv": data.replace(b"\n", b"\r\n"),
    }
    for name, content in variants.items():
        path = tmp_path / name
        path.write_bytes(content)
        rows, errors, total = parse_file(path)
        assert (errors, total) == ([], 1000), name
        assert ids(rows) == ids(sample[0]), name
        assert sum(row.amount for row in rows) == Decimal("20.52022672899"), name


def test_null_spellings_and_padding_do_not_change_ids(table):
    header, raw = table
    row = raw[0]
    assert "NULL" in row
    variants = [
        row,
        ["" if v == "NULL" else v for v in row],
        [f"  {v} " for v in row],
    ]
    unquoted_null = to_csv(header, [row]).replace(b'"NULL"', b"NULL")
    rows = parse_bytes(to_csv(header, variants))[0] + parse_bytes(unquoted_null)[0]
    assert [r.external_id[:40] for r in rows] == [rows[0].external_id[:40]] * 4
    assert ids(rows[:3]) == [rows[0].external_id[:40] + f":{n}" for n in range(3)]


def test_duplicated_line_keeps_both_rows():
    lines = SAMPLE.read_bytes().splitlines(keepends=True)
    data = b"".join([*lines[:4], lines[2], *lines[4:10], lines[2]])
    rows, errors, total = parse_bytes(data)
    assert (errors, total) == ([], 11)
    by_line = {row.line: row.external_id for row in rows}
    first, second, third = by_line[3], by_line[5], by_line[12]
    assert first[:40] == second[:40] == third[:40]
    assert (first[40:], second[40:], third[40:]) == (":0", ":1", ":2")
    assert len(set(by_line.values())) == 11
    original = parse_file()[0]
    assert {r.external_id for r in original if r.line <= 10} <= set(by_line.values())


def test_repeat_counter_counts_exactly_across_growth():
    keys = [int.from_bytes(hashlib.sha256(b"%d" % i).digest()[:8]) or 1 for i in range(20_000)]
    counter = _RepeatCounter()
    for expected in range(3):
        assert [counter.count(key) for key in keys] == [expected] * len(keys)
    assert counter.count(12345) == 0 and counter.count(12345) == 1


# -- headers and versions --------------------------------------------------------------------


def test_minimal_header_any_order_spaces_and_service_provider_name():
    data = (
        b" ChargePeriodEnd , BilledCost,ServiceProviderName,BillingCurrency,ChargePeriodStart\n"
        b"2025-01-01T01:00:00Z,1.5,Google Cloud,eur,2025-01-01T00:00:00Z\n"
    )
    rows, errors, total = parse_bytes(data)
    assert (errors, total) == ([], 1)
    row = rows[0]
    assert (row.provider, row.provider_name, row.currency) == ("gcp", "Google Cloud", "EUR")
    assert (row.region, row.service, row.tags, row.description) == ("", "", {}, "")
    assert row.purchase_type == "on_demand"


def test_service_provider_name_preferred_over_provider_name():
    data = (
        b"ProviderName,ServiceProviderName,BillingCurrency,ChargePeriodStart,ChargePeriodEnd,"
        b"BilledCost\nMarketplace Co,Microsoft,USD,2025-01-01,2025-01-02 00:00:00,1\n"
    )
    # "2025-01-01" has no time: rejected, naming the column
    rows, errors, _ = parse_bytes(data)
    assert rows == [] and "ChargePeriodStart" in errors[0].reason
    rows, errors, _ = parse_bytes(data.replace(b"2025-01-01,", b"2025-01-01 00:00:00,"))
    assert errors == [] and rows[0].provider == "azure"


@pytest.mark.parametrize(
    "missing", ["ProviderName", "BillingCurrency", "ChargePeriodStart", "ChargePeriodEnd"]
)
def test_missing_required_column(table, missing):
    header, raw = table
    keep = [i for i, name in enumerate(header) if name != missing]
    data = to_csv([header[i] for i in keep], [[r[i] for i in keep] for r in raw[:3]])
    with pytest.raises(FocusFileError, match=missing):
        read_rows(io.BytesIO(data))


def test_missing_cost_column_and_several_missing(table):
    header, raw = table
    keep = [i for i, name in enumerate(header) if name not in ("EffectiveCost", "BilledCost")]
    data = to_csv([header[i] for i in keep], [[r[i] for i in keep] for r in raw[:3]])
    with pytest.raises(FocusFileError, match="EffectiveCost"):
        parse_bytes(data, cost_column="EffectiveCost")
    with pytest.raises(FocusFileError, match="BilledCost"):
        parse_bytes(data)
    with pytest.raises(FocusFileError, match=r"BillingCurrency.*ChargePeriodStart") as exc:
        parse_bytes(b"ProviderName,Cost\nAWS,1\n")
    assert "BilledCost" in str(exc.value)


def test_duplicate_header_column_and_bad_cost_column_argument():
    with pytest.raises(FocusFileError, match="twice"):
        parse_bytes(
            b"ProviderName,BillingCurrency,ChargePeriodStart,ChargePeriodEnd,BilledCost,BilledCost\n"
        )
    with pytest.raises(ValueError, match="cost_column"):
        parse_bytes(SAMPLE.read_bytes(), cost_column="Cost")
    assert COST_COLUMNS == ("BilledCost", "EffectiveCost", "ListCost", "ContractedCost")


def test_header_only_gives_no_rows():
    header = SAMPLE.read_bytes().splitlines()[0]
    assert parse_bytes(header) == ([], [], 0)
    assert parse_bytes(header + b"\n\n\n") == ([], [], 0)


# -- values ----------------------------------------------------------------------------------

MINIMAL = b"ProviderName,BillingCurrency,ChargePeriodStart,ChargePeriodEnd,BilledCost,Tags\n"


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        ("2024-09-18 22:00:00", datetime(2024, 9, 18, 22, tzinfo=UTC)),
        ("2024-09-18T22:00:00Z", datetime(2024, 9, 18, 22, tzinfo=UTC)),
        ("2024-09-18T22:00:00+00:00", datetime(2024, 9, 18, 22, tzinfo=UTC)),
        ("2024-09-18T22:00:00.250Z", datetime(2024, 9, 18, 22, 0, 0, 250000, tzinfo=UTC)),
        ("2024-09-18 22:00:00.1234567", datetime(2024, 9, 18, 22, 0, 0, 123456, tzinfo=UTC)),
        ("2024-09-19T00:00:00+02:00", datetime(2024, 9, 18, 22, tzinfo=UTC)),
    ],
)
def test_datetime_formats(start, expected):
    data = MINIMAL + f"AWS,USD,{start},2024-09-19T00:00:00Z,0.1,\n".encode()
    rows, errors, _ = parse_bytes(data)
    assert errors == []
    assert rows[0].charge_period_start == expected
    assert rows[0].charge_period_start.tzinfo is UTC


@pytest.mark.parametrize(
    ("provider", "expected"),
    [
        ("AWS", "aws"),
        ("Amazon Web Services", "aws"),
        ("Microsoft", "azure"),
        ("Microsoft Azure", "azure"),
        ("Azure", "azure"),
        ("Google Cloud", "gcp"),
        ("GCP", "gcp"),
        ("Google", "gcp"),
        ("Oracle", "oracle"),
        ("Digital  Ocean ", "digital-ocean"),
    ],
)
def test_normalise_provider(provider, expected):
    assert normalise_provider(provider) == expected


@pytest.mark.parametrize(
    ("pricing", "commitment", "expected"),
    [
        ("Dynamic", "", "spot"),
        ("Committed", "", "commitment"),
        ("Standard", "arn:aws:savingsplans::1:savingsplan/x", "commitment"),
        ("Standard", "NULL", "on_demand"),
        ("NULL", "", "on_demand"),
        ("Other", "", "on_demand"),
    ],
)
def test_purchase_type(pricing, commitment, expected):
    data = (
        b"ProviderName,BillingCurrency,ChargePeriodStart,ChargePeriodEnd,BilledCost,"
        b"PricingCategory,CommitmentDiscountId\n"
        + f"AWS,USD,2024-09-18 22:00:00,2024-09-18 23:00:00,1,{pricing},{commitment}\n".encode()
    )
    rows, errors, _ = parse_bytes(data)
    assert errors == [] and rows[0].purchase_type == expected


def test_description_truncated_and_multiline_fields_count_physical_lines():
    header = b"ProviderName,BillingCurrency,ChargePeriodStart,ChargePeriodEnd,BilledCost,"
    data = (
        header + b"ChargeDescription\n"
        b'AWS,USD,2024-09-18 22:00:00,2024-09-18 23:00:00,1,"two\nlines"\n'
        b"AWS,USD,2024-09-18 22:00:00,2024-09-18 23:00:00,2," + b"x" * 600 + b"\n"
    )
    rows, errors, _ = parse_bytes(data)
    assert errors == []
    assert [row.line for row in rows] == [2, 4]
    assert rows[0].description == "two\nlines"
    assert rows[1].description == "x" * 500


def test_bad_rows_are_reported_with_line_and_column(table):
    header, raw = table
    col = header.index

    def edited(**changes):
        row = list(raw[0])
        for name, value in changes.items():
            row[col(name)] = value
        return row

    records = [
        raw[0],  # line 2: good
        edited(BilledCost="12,5 EUR"),  # 3
        edited(BilledCost="NaN"),  # 4
        edited(ChargePeriodStart="2024-09-19 00:00:00"),  # 5: end before start
        edited(ChargePeriodEnd="2024-13-01 00:00:00"),  # 6
        edited(Tags='{"team": "ml"'),  # 7
        raw[1][:-1],  # 8: a column short
        edited(Tags='["a", "b"]'),  # 9
        edited(BilledCost="Infinity"),  # 10
        edited(BilledCost="1e13"),  # 11
        edited(BilledCost="NULL"),  # 12
        edited(BillingCurrency="US"),  # 13
        edited(ProviderName="NULL"),  # 14
        edited(ChargePeriodStart="yesterday", BilledCost="x"),  # 15: two problems
        edited(BilledCost="1_000"),  # 16
        raw[2],  # 17: good
    ]
    rows, errors, total = parse_bytes(to_csv(header, records))
    assert total == 16
    assert [row.line for row in rows] == [2, 17]
    assert [row.external_id[:40] for row in rows] == [
        row.external_id[:40] for row in parse_file()[0][:3:2]
    ]
    reasons = {error.line: error.reason for error in errors}
    assert set(reasons) == set(range(3, 17))
    expected = {
        3: "BilledCost '12,5 EUR' is not a number",
        4: "BilledCost 'NaN' is not a finite number",
        5: "ChargePeriodEnd '2024-09-18 23:00:00' is before ChargePeriodStart",
        6: "ChargePeriodEnd '2024-13-01 00:00:00' is not a date-time",
        7: "Tags is not valid JSON",
        8: "expected 44 columns as in the header, found 43",
        9: "Tags is not a JSON object",
        10: "BilledCost 'Infinity' is not a finite number",
        11: "BilledCost '1e13' is implausibly large",
        12: "BilledCost is empty",
        13: "BillingCurrency 'US' is not a 3-letter currency code",
        14: "ProviderName is empty",
        15: "ChargePeriodStart 'yesterday' is not a date-time",
        16: "BilledCost '1_000' is not a number",
    }
    for line, text in expected.items():
        assert text in reasons[line], (line, reasons[line])
    assert "BilledCost 'x' is not a number" in reasons[15]
    assert all(isinstance(error, RowError) for error in errors)


def test_oversized_field_is_a_row_error_and_reading_goes_on():
    row = "AWS,USD,2024-09-18 22:00:00,2024-09-18 23:00:00,1,{}\n"
    data = (MINIMAL + row.format("x" * 200_000).encode() + row.format("").encode()) * 2
    records = list(read_rows(io.BytesIO(data)))
    assert [(type(r), r.line) for r in records] == [
        (RowError, 2),
        (FocusRow, 3),
        (RowError, 4),  # the repeated header is a row, with a bad cost and dates
        (RowError, 5),
        (FocusRow, 6),
    ]
    assert "unreadable CSV" in records[0].reason
    assert "BilledCost 'BilledCost' is not a number" in records[2].reason


def test_overlong_line_is_refused():
    data = MINIMAL + b"AWS,USD,2024-09-18 22:00:00,2024-09-18 23:00:00,1," + b"x" * 2 * 1024**2
    with pytest.raises(FocusFileError, match="Line 2 is longer than 1,048,576 bytes"):
        parse_bytes(data)


def test_read_rows_streams_mixed_records(table):
    header, raw = table
    bad = list(raw[1])
    bad[header.index("BilledCost")] = "abc"
    records = list(read_rows(io.BytesIO(to_csv(header, [raw[0], bad, raw[2]]))))
    assert [type(r) for r in records] == [FocusRow, RowError, FocusRow]
    assert [r.line for r in records] == [2, 3, 4]


# -- whole-file errors -----------------------------------------------------------------------


def test_empty_files():
    for data in (b"", b"\n\n", b"\xef\xbb\xbf", gzip.compress(b"")):
        with pytest.raises(FocusFileError, match="empty"):
            parse_bytes(data)


def test_non_utf8_names_the_line():
    lines = SAMPLE.read_bytes().splitlines(keepends=True)
    lines[4] = lines[4].replace(b"Amazon", b"Am\xe9zon", 1)
    with pytest.raises(FocusFileError, match=r"Line 5 is not valid UTF-8 \(byte \d+ of the line"):
        parse_bytes(b"".join(lines))
    with pytest.raises(FocusFileError, match=r"Line 5 is not valid UTF-8.*uncompressed"):
        parse_bytes(gzip.compress(b"".join(lines)))


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b"PK\x03\x04rest-of-zip", "ZIP"),
        (b"PAR1\x00\x00", "Parquet"),
        ("ProviderName".encode("utf-16"), "UTF-16"),
    ],
)
def test_other_formats_refused(data, kind):
    with pytest.raises(FocusFileError, match=kind):
        parse_bytes(data)


def test_corrupt_gzip():
    packed = gzip.compress(SAMPLE.read_bytes())
    truncated = packed[: len(packed) // 2]
    garbled = bytearray(packed)
    garbled[len(packed) // 2 : len(packed) // 2 + 64] = bytes(64)
    bad_crc = packed[:-8] + bytes(8)
    for data in (truncated, bytes(garbled), bad_crc, b"\x1f\x8b\x08garbage"):
        with pytest.raises(FocusFileError, match="gzip data is corrupt or truncated"):
            parse_bytes(data)


class CountingStream(io.RawIOBase):
    """A non-seekable stream that counts what the parser read."""

    def __init__(self, data):
        self._data = io.BytesIO(data)
        self.consumed = 0

    def readable(self):
        return True

    def read(self, size=-1):
        chunk = self._data.read(size)
        self.consumed += len(chunk)
        return chunk


def test_gzip_bomb_stops_early():
    bomb = gzip.compress(bytes(50 * 1024**2), compresslevel=9)  # 50 MiB of zeros
    started = time.perf_counter()
    with pytest.raises(FocusFileError, match="uncompressed size exceeds the limit of 1,048,576"):
        parse_bytes(bomb, max_uncompressed_bytes=1024**2)
    assert time.perf_counter() - started < 1

    # 4 GiB of zeros in 4096 gzip members (~4 MB): only the start of it is ever read
    bomb = gzip.compress(bytes(1024**2), compresslevel=9) * 4096
    stream = CountingStream(bomb)
    started = time.perf_counter()
    with pytest.raises(FocusFileError, match="exceeds the limit of 524,288"):
        read_rows(stream, max_uncompressed_bytes=512 * 1024)
    assert time.perf_counter() - started < 1
    assert stream.consumed < len(bomb) / 10


def test_size_limit_applies_to_plain_files_too():
    data = SAMPLE.read_bytes()
    assert parse_bytes(data, max_uncompressed_bytes=len(data))[2] == 1000
    with pytest.raises(FocusFileError, match="size exceeds the limit"):
        parse_bytes(data, max_uncompressed_bytes=len(data) - 1)


def test_lines_come_decoded_from_gzip_without_the_bom():
    lines = _utf8_lines(io.BytesIO(gzip.compress("\ufeffa,b\r\nc,d\n".encode())), 1 << 20)
    assert "".join(lines) == "a,b\r\nc,d\n"


# -- scale -----------------------------------------------------------------------------------


def test_200k_rows_in_bounded_memory(table, tmp_path):
    """200 copies of the sample, each copy an hour later than the one before."""
    header, raw = table
    start_col, end_col = header.index("ChargePeriodStart"), header.index("ChargePeriodEnd")
    templates = []  # (CSV line with placeholders for the period, start, end)
    for r in raw:
        r = list(r)
        times = datetime.fromisoformat(r[start_col]), datetime.fromisoformat(r[end_col])
        r[start_col], r[end_col] = "@START@", "@END@"
        line = to_csv(r, []).decode()
        templates.append((line, *times))
    path = tmp_path / "big.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        f.write(SAMPLE.read_text(encoding="utf-8").splitlines(keepends=True)[0])
        for copy in range(200):
            shift = timedelta(hours=copy)
            for text, start, end in templates:
                f.write(
                    text.replace("@START@", str(start + shift)).replace("@END@", str(end + shift))
                )
    assert path.stat().st_size > 100 * 1024**2  # 200 times the sample

    count, total, seen_ids = 0, Decimal(0), set()
    tracemalloc.start()
    try:
        with path.open("rb") as f:
            for record in read_rows(f):
                count += 1
                assert isinstance(record, FocusRow) and record.line == count + 1
                total += record.amount
                if count % 10_000 == 0:
                    seen_ids.add(record.external_id)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 200_000
    assert total == Decimal("20.52022672899") * 200
    assert len(seen_ids) == 20
    assert peak < 50 * 1024**2, f"peak {peak / 1024**2:.1f} MiB"


def test_amounts_stop_below_what_the_expense_column_holds():
    header = b"ProviderName,BillingCurrency,ChargePeriodStart,ChargePeriodEnd,BilledCost\n"
    period = b"2024-09-18 22:00:00,2024-09-18 23:00:00,"
    data = header + b"".join(
        b"AWS,USD," + period + amount + b"\n"
        for amount in (b"999999999999.99", b"1000000000000", b"-1000000000000")
    )
    rows, errors, _ = parse_bytes(data)
    assert [row.amount for row in rows] == [Decimal("999999999999.99")]
    assert [error.line for error in errors] == [3, 4]
    assert all("implausibly large" in error.reason for error in errors)


def test_implausible_dates_are_row_errors_naming_line_and_column():
    row = "AWS,USD,{},{},1,{{}}\n"
    data = (
        MINIMAL
        + "".join(
            row.format(start, end)
            for start, end in (
                ("2024-09-18 22:00:00", "2024-09-18 23:00:00"),  # line 2: good
                ("9999-12-31T23:00:00Z", "9999-12-31T23:30:00Z"),  # 3
                (
                    "9999-12-31T23:00:00-05:00",
                    "9999-12-31T23:30:00-05:00",
                ),  # 4: past year 9999 in UTC
                ("1999-12-31 23:00:00", "2024-09-18 23:00:00"),  # 5
                ("2024-09-18 22:00:00", "2999-01-01 00:00:00"),  # 6
            )
        ).encode()
    )
    rows, errors, total = parse_bytes(data)
    assert (total, [r.line for r in rows]) == (5, [2])
    reasons = {error.line: error.reason for error in errors}
    assert set(reasons) == {3, 4, 5, 6}
    assert reasons[3].startswith("ChargePeriodStart '9999-12-31T23:00:00Z' is out of range")
    assert "ChargePeriodStart '9999-12-31T23:00:00-05:00' is not a date-time" in reasons[4]
    assert reasons[5].startswith("ChargePeriodStart '1999-12-31 23:00:00' is out of range")
    assert reasons[6].startswith("ChargePeriodEnd '2999-01-01 00:00:00' is out of range")
