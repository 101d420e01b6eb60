"""Query-string values shared by pages and the API."""

MAX_ID = 2**63 - 1  # the largest primary key (a 64-bit signed column)


def is_id(value) -> bool:
    """A row id: ASCII digits only ("²".isdigit() is true, but int("²") fails), from 1 to MAX_ID
    (a number past 64 bits is a 500 on SQLite)."""
    text = str(value)
    return text.isascii() and text.isdecimal() and len(text) <= 19 and 1 <= int(text) <= MAX_ID


def filter_by_text(queryset, **lookups):
    """`queryset.filter(**lookups)` for text from a query string. A value holding NUL matches
    nothing: no stored text has one, and PostgreSQL refuses to compare it (a 500)."""
    if any("\x00" in str(value) for value in lookups.values()):
        return queryset.none()
    return queryset.filter(**lookups)
