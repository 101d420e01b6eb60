"""The API answers JSON encoded with orjson (costsite/renderers.py): the same values DRF's own
renderer gives for every type the API returns, whatever the Accept header asks for."""

import datetime as dt
import json
import uuid
from decimal import Decimal

import pytest
from django.utils.translation import gettext_lazy
from rest_framework.exceptions import ErrorDetail
from rest_framework.renderers import JSONRenderer as DRFJSONRenderer
from rest_framework.utils.serializer_helpers import ReturnDict, ReturnList

from costsite.renderers import JSONRenderer
from tests.conftest import api_client

VALUES = {
    "text": 'Zürich ✓ \u2028 "quoted" \\ </script>',
    "int": 2**63 - 1,
    "negative": -17,
    "float": 0.1,
    "small": 1.5e-7,
    "decimal": Decimal("12.3400"),
    "none": None,
    "bool": True,
    "aware": dt.datetime(2026, 11, 23, 1, 2, 3, 456789, tzinfo=dt.UTC),
    "naive": dt.datetime(2026, 11, 23, 1, 2, 3),
    "offset": dt.datetime(2026, 11, 23, 1, 2, 3, tzinfo=dt.timezone(dt.timedelta(hours=2))),
    "date": dt.date(2026, 2, 28),
    "time": dt.time(8, 30),
    "duration": dt.timedelta(hours=1, seconds=5),
    "uuid": uuid.UUID("12345678-1234-5678-1234-567812345678"),
    "lazy": gettext_lazy("This field is required."),
    "error": [ErrorDetail("Bad value.", code="invalid")],
    "tuple": (1, "two"),
    "nested": ReturnDict({"rows": ReturnList([{"a": 1}], serializer=None)}, serializer=None),
    "int keys": {1: "one", 2: "two"},
}


def test_the_values_match_drfs_renderer():
    ours, drfs = JSONRenderer().render(VALUES), DRFJSONRenderer().render(VALUES)
    assert json.loads(ours) == json.loads(drfs)
    assert json.loads(ours)["aware"].endswith("Z")  # DRF's form, not orjson's "+00:00"


def test_text_is_utf8_not_escaped():
    assert "Zürich ✓".encode() in JSONRenderer().render({"text": "Zürich ✓"})


def test_what_orjson_cannot_encode_goes_to_drf():
    huge = {"n": 10**30}
    assert (
        JSONRenderer().render(huge)
        == DRFJSONRenderer().render(huge)
        == b'{"n":' + str(10**30).encode() + b"}"
    )


def test_no_data_is_an_empty_body():
    assert JSONRenderer().render(None) == b""


@pytest.mark.parametrize("accept", ["text/html", "application/xml", "application/json; indent=4"])
def test_any_accept_header_gets_compact_json(org_a, alice, catalog, accept):
    client = api_client(user=alice)
    response = client.get("/api/v1/orgs/org-a/catalog/accelerators", HTTP_ACCEPT=accept)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert b"\n" not in response.content
    assert response.json()["results"]
