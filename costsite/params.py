"""Query-string values shared by pages and the API."""


def is_id(value) -> bool:
    """A row id: ASCII digits only ("²".isdigit() is true, but int("²") fails)."""
    text = str(value)
    return text.isascii() and text.isdecimal()
