"""`manage.py estimate` and `manage.py compare` print readable tables."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError


def test_estimate_command(catalog, capsys):
    call_command("estimate", "--provider", "aws", "--instance", "p3.2xlarge", "--hours", "10")
    out = capsys.readouterr().out
    assert "total" in out and "30.6000 USD" in out and "test fixture" in out


def test_estimate_command_spot_and_errors(catalog, capsys):
    call_command(
        "estimate", "--provider", "aws", "--instance", "p3.2xlarge", "--hours", "10", "--spot"
    )
    assert "4.0416 USD" in capsys.readouterr().out
    with pytest.raises(CommandError, match=r"did you mean p3\.2xlarge"):
        call_command(
            "estimate",
            "--provider",
            "aws",
            "--instance",
            "p3.2xlrge",
            "--hours",
            "1",
            "--region",
            "us-east-1",
        )


def test_compare_command(catalog, capsys):
    call_command("compare", "--gpu", "A100", "--count", "8", "--hours", "100")
    out = capsys.readouterr().out
    assert "p4d.24xlarge" in out and "a2-highgpu-1g" in out and "3277.0000 USD" in out
