"""Roles inside an organization and what each may write.

Roles are not a strict ladder (finance writes budgets, a member writes fleets), so each kind of
write names the set of roles allowed to do it. Every role may read.
"""

from django.db import models


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    FINANCE = "finance", "Finance"
    MEMBER = "member", "Member"
    VIEWER = "viewer", "Viewer"


# Who may write what.
MANAGERS = frozenset({Role.OWNER, Role.ADMIN})  # members, teams, channels, organization settings
FINANCE_WRITERS = frozenset({Role.OWNER, Role.ADMIN, Role.FINANCE})  # budgets, alert rules
SPEND_WRITERS = frozenset({Role.OWNER, Role.ADMIN, Role.FINANCE, Role.MEMBER})  # expenses
OPERATORS = frozenset({Role.OWNER, Role.ADMIN, Role.MEMBER})  # estimates, runs, fleets
READERS = frozenset(Role)

# Roles whose holders, when also Django staff, may use the admin site for their organization.
ADMIN_SITE_ROLES = frozenset({Role.OWNER, Role.ADMIN, Role.FINANCE})
