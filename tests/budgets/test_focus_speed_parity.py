"""budgets.focus reads CHUNK_BYTES of text at a time and takes a shortcut for valid records:
the results must not depend on where the chunks end, and must match the documented rules
(line numbers, errors, external ids) exactly as reading line by line did."""

import csv
import gzip
import hashlib
import io
import json
import zlib
from pathlib import Path

import pytest

from budgets import focus
from budgets.focus import FocusFileError, FocusRow, RowError, read_rows

SAMPLE = Path(__file__).resolve().parent / "data" / "focus_1.0_sample_1000.csv"
CHUNK_SIZES = (1, 7, 100, 4096)  # tiny chunks: every position is a chunk boundary somewhere


def sample_table():
    with SAMPLE.open(newline="", encoding="utf-8") as f:
        header, *rows = csv.reader(f)
    return header, rows


def to_csv(header, rows, lineterminator="\n", quoting=csv.QUOTE_MINIMAL) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=lineterminator, quoting=quoting)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode()


def outcome(data: bytes, **kwargs):
    """Everything read_rows gives for `data`: records as tuples, then the error it raised."""
    items = []
    try:
        for item in read_rows(io.BytesIO(data), **kwargs):
            items.append(vars(item).copy() if isinstance(item, FocusRow) else item)
    except FocusFileError as exc:
        items.append(("raised", str(exc)))
    return items


def outcomes_by_chunk_size(monkeypatch, data: bytes, **kwargs):
    results = [outcome(data, **kwargs)]
    for size in CHUNK_SIZES:
        monkeypatch.setattr(focus, "CHUNK_BYTES", size)
        results.append(outcome(data, **kwargs))
    monkeypatch.undo()
    return results


def expected_id(header, values, repeat=0):
    """external_id computed from the module docstring's definition."""
    order = sorted(range(len(header)), key=header.__getitem__)
    ordered = ["" if (v := values[i].strip()) == "NULL" else v for i in order]
    payload = "\x00".join(ordered)
    if any("\x00" in v for v in ordered):
        payload = json.dumps(ordered)
    digest = hashlib.sha256(b"focus-row-v1\n")
    digest.update(json.dumps([header[i] for i in order]).encode() + b"\n")
    digest.update(payload.encode())
    return f"{digest.hexdigest()[:40]}:{repeat}"


@pytest.fixture(scope="module")
def table():
    return sample_table()


def test_quoted_line_breaks_across_chunk_boundaries(monkeypatch, table):
    header, raw = table
    col = header.index("ChargeDescription")
    texts = [
        "two\nlines",
        "crlf\r\ninside",
        "cr\ronly",
        "ls\u2028ps\u2029vt\x0bff\x0cfs\x1cnel\x85",
    ]
    rows = []
    for i, row in enumerate(raw[:40]):
        row = list(row)
        row[col] = texts[i % 4] + str(i)
        rows.append(row)
    for terminator in ("\n", "\r\n"):
        data = to_csv(header, rows, terminator, csv.QUOTE_ALL)
        results = outcomes_by_chunk_size(monkeypatch, data)
        assert all(result == results[0] for result in results)
        records = results[0]
        assert [r["description"] for r in records] == [r[col] for r in rows]
        # only "\n" ends a physical line: the first two descriptions hold one each
        assert [r["line"] for r in records[:6]] == [2, 4, 6, 7, 8, 10]
        assert [r["external_id"] for r in records] == [expected_id(header, r) for r in rows]


def test_line_breaks_csv_refuses_outside_quotes(monkeypatch):
    data = (
        b"ProviderName,BillingCurrency,ChargePeriodStart,ChargePeriodEnd,BilledCost\n"
        b"AWS,US\rD,2024-09-18 22:00:00,2024-09-18 23:00:00,1\n"
        + "AWS,USD,2024-09-18 22:00:00,2024-09-18 23:00\u2028:00,1\n".encode()
        + b"AWS,USD,2024-09-18 22:00:00,2024-09-18 23:00:00,2\n"
    )
    for result in outcomes_by_chunk_size(monkeypatch, data):
        assert isinstance(result[0], RowError) and result[0].line == 2
        assert "unreadable CSV" in result[0].reason
        assert isinstance(result[1], RowError) and result[1].line == 3
        assert "ChargePeriodEnd" in result[1].reason  # \u2028 is not a line break for csv
        assert result[2]["line"] == 4 and result[2]["amount"] == 2


def test_non_utf8_byte_at_a_chunk_boundary_names_its_line(table):
    header, raw = table
    data = to_csv(header, raw * 2)
    chunk = focus.CHUNK_BYTES
    assert len(data) > chunk + 1
    for position in (chunk - 1, chunk, chunk + 1):
        bad = data[:position] + b"\xff" + data[position + 1 :]
        line = data[:position].count(b"\n") + 1
        start = data.rfind(b"\n", 0, position) + 1
        records = outcome(bad)
        assert records[-1] == (
            "raised",
            f"Line {line} is not valid UTF-8 (byte {position - start + 1} of the line, "
            f"byte {position + 1} of the file); export the file as UTF-8.",
        )
        assert len(records) == line - 1  # every record before the bad line, none after
        assert records[-2]["line"] == line - 1


def test_size_limit_and_bom_at_chunk_boundaries(monkeypatch, table):
    header, raw = table
    data = b"\xef\xbb\xbf" + to_csv(header, raw[:30])
    ends = [i + 1 for i, byte in enumerate(data) if byte == ord("\n")]
    for limit in (ends[10], ends[10] - 1, ends[10] + 1):
        for result in outcomes_by_chunk_size(monkeypatch, data, max_uncompressed_bytes=limit):
            if limit == ends[10]:  # the limit is the end of line 11: line 12 goes over
                assert result[-1] == (
                    "raised",
                    f"The file's size exceeds the limit of {limit:,} bytes (stopped at line 12).",
                )
                assert len(result) == 11
            else:
                stopped = 11 if limit < ends[10] else 12
                assert result[-1][1].endswith(f"(stopped at line {stopped}).")
                assert len(result) == stopped - 1
            assert result[0]["external_id"] == expected_id(header, raw[0])


def test_overlong_line_across_chunks(monkeypatch):
    head = b"ProviderName,BillingCurrency,ChargePeriodStart,ChargePeriodEnd,BilledCost,Tags\n"
    row = b"AWS,USD,2024-09-18 22:00:00,2024-09-18 23:00:00,1,\n"
    fill = focus.MAX_LINE_BYTES - len(row)
    exact = row[:-1] + b"x" * fill + b"\n"  # MAX_LINE_BYTES bytes with its "\n"
    too_long = row[:-1] + b"x" * (fill + 1) + b"\n"
    assert len(exact) == focus.MAX_LINE_BYTES
    for size in (focus.CHUNK_BYTES, 100_000):
        monkeypatch.setattr(focus, "CHUNK_BYTES", size)
        records = outcome(head + row + exact + row)
        assert [type(r) for r in records] == [dict, RowError, dict]  # the field is too large
        records = outcome(head + row + too_long + row)
        assert records[1:] == [("raised", "Line 3 is longer than 1,048,576 bytes.")]


def readline_count_before_gzip_error(data: bytes) -> int:
    """How many lines the standard library's GzipFile.readline gives before failing."""
    count = 0
    with gzip.GzipFile(fileobj=io.BytesIO(data)) as source:
        try:
            while source.readline(focus.MAX_LINE_BYTES + 1):
                count += 1
        except (EOFError, zlib.error, gzip.BadGzipFile):
            return count
    raise AssertionError("no gzip error")


def test_damaged_gzip_names_the_line_readline_stops_at(monkeypatch, table):
    header, raw = table
    packed = gzip.compress(to_csv(header, raw[:600]))
    garbled = bytearray(packed)
    garbled[len(packed) // 2 : len(packed) // 2 + 32] = bytes(32)
    garbled = bytes(garbled)
    for damaged in (packed[: len(packed) // 3], packed[:-8] + bytes(8), garbled):
        lines = readline_count_before_gzip_error(damaged)
        for result in outcomes_by_chunk_size(monkeypatch, damaged):
            raised, message = result[-1]
            assert raised == "raised"
            assert message.startswith(
                f"The gzip data is corrupt or truncated (after line {lines}):"
            )
            if damaged is not garbled:  # (garbled data can hold blank lines and quotes)
                assert len(result) == lines  # the records of the lines read, but the header


def test_ids_follow_the_documented_definition_for_nul_null_and_padding(monkeypatch, table):
    header, raw = table
    nulls = [["NULL" if i % 2 else v for i, v in enumerate(raw[0])], [" NULL "] * len(header)]
    rows = [raw[1], raw[2], *nulls, [f" {v}\t" for v in raw[3]]]
    for row in rows[2:]:
        for name, value in (
            ("ProviderName", "AWS"),
            ("BillingCurrency", "USD"),
            ("ChargePeriodStart", "2024-09-18 22:00:00"),
            ("ChargePeriodEnd", "2024-09-18 23:00:00"),
            ("BilledCost", "1"),
        ):
            row[header.index(name)] = value
    with_nul = list(raw[4])
    with_nul[header.index("ChargeDescription")] = "a\x00b"
    with_bom = list(raw[5])  # a byte-order mark is skipped at the start of the file only
    with_bom[0] = "\ufeff" + with_bom[0]
    rows += [with_nul, with_bom, raw[1]]
    for result in outcomes_by_chunk_size(monkeypatch, to_csv(header, rows)):
        assert [r["external_id"] for r in result] == [
            *[expected_id(header, row) for row in rows[:-1]],
            expected_id(header, raw[1], repeat=1),
        ]
        all_null = result[3]
        assert all_null["tags"] == {} and all_null["purchase_type"] == "on_demand"
        for name in ("service", "service_category", "region", "resource_id", "description"):
            assert all_null[name] == ""
        assert result[5]["description"] == "a\x00b"


def test_identical_tags_are_separate_objects(table):
    header, raw = table
    col = header.index("Tags")
    rows = [list(raw[1]) for _ in range(3)] + [list(raw[2]) for _ in range(2)]
    rows[3][col] = rows[4][col] = '{"team": {"name": "ml"}, "ids": [1, 2]}'
    records = list(read_rows(io.BytesIO(to_csv(header, rows))))
    expected = json.loads(raw[1][col])
    records[0].tags["application"] = "changed"
    assert [r.tags for r in records[1:3]] == [expected, expected]
    records[3].tags["team"]["name"] = "changed"
    records[3].tags["ids"].append(3)
    assert records[4].tags == {"team": {"name": "ml"}, "ids": [1, 2]}
