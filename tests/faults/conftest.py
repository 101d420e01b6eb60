"""Fixtures shared with the spot tests (a fleet factory, on-commit runner, moto's EC2)."""

from tests.spot.conftest import commit, make_fleet  # noqa: F401 - fixtures
from tests.spot.test_aws_fleets import ec2, image_id  # noqa: F401 - fixtures
