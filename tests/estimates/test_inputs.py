"""Input serializers copy their declared fields shallowly (estimates/inputs.py): each instance
still validates with fields of its own, bound to it."""

import pytest

from estimates.inputs import CompareInput
from estimates.offers import offer_table


@pytest.fixture
def context(catalog):
    return {"catalogue": offer_table(None).catalogue}


def test_each_instance_binds_fields_of_its_own(context):
    first, second = CompareInput(context=context), CompareInput(context=context)
    for name in ("providers", "hours"):
        assert first.fields[name] is not second.fields[name]
        assert first.fields[name].parent is first and second.fields[name].parent is second
    assert first.fields["providers"].child is not second.fields["providers"].child
    assert first.fields["providers"].child.parent is first.fields["providers"]
    assert first.fields["providers"].child.field_name == ""
    declared = CompareInput._declared_fields["providers"]
    assert declared.parent is None and declared.child.parent is declared  # left as declared


def test_errors_stay_with_their_instance(context):
    bad = CompareInput(
        data={"accelerator": "V100", "gpu_count": 1, "hours": 1, "providers": ["ibm"]},
        context=context,
    )
    good = CompareInput(
        data={"accelerator": "V100", "gpu_count": 1, "hours": 1, "providers": ["aws"]},
        context=context,
    )
    assert not bad.is_valid()
    assert list(bad.errors) == ["providers"] and "ibm" in str(bad.errors["providers"])
    assert good.is_valid(), good.errors
    assert good.validated_data["providers"] == ["aws"]
    assert CompareInput(data={"gpu_count": 1, "hours": 1}, context=context).is_valid() is False
