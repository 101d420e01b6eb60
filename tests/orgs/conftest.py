import pytest

from costsite.orgs.roles import Role


@pytest.fixture
def finance_a(org_a, member):
    """Staff with the finance role in org A: enough for budgets in the admin, not for
    memberships, tokens or the audit log."""
    user = member(org_a, Role.FINANCE)
    user.is_staff = True
    user.save()
    return user
