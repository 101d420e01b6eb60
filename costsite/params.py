"""Query-string values shared by pages and the API."""

MAX_ID = 2**63 - 1  # the largest primary key (a 64-bit signed column)


def is_id(value) -> bool:
    """A row id: ASCII digits only ("²".isdigit() is true, but int("²") fails), from 1 to MAX_ID
    (a number past 64 bits is a 500 on SQLite)."""
    text = str(value)
    return text.isascii() and text.isdecimal() and len(text) <= 19 and 1 <= int(text) <= MAX_ID
