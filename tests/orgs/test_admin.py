"""Django admin: staff see and edit only their organizations' rows (DESIGN.md §3)."""

import pytest

from costsite.notify.channels import create_channel
from costsite.notify.models import Channel
from costsite.orgs.models import Team
from costsite.orgs.roles import Role


@pytest.fixture
def rows(org_a, org_b, charlie):
    team_a = Team.objects.create(organization=org_a, name="Team A")
    team_b = Team.objects.create(organization=org_b, name="Team B")
    channel_b = create_channel(org_b, "B mail", "email", "b@example.com")
    return team_a, team_b, channel_b


def test_finance_lists_only_their_organizations_rows(client, finance_a, rows):
    client.force_login(finance_a)
    page = client.get("/admin/orgs/team/").content.decode()
    assert "Team A" in page and "Team B" not in page
    assert "B mail" not in client.get("/admin/notify/channel/").content.decode()


def test_finance_cannot_open_or_save_another_organizations_row(client, finance_a, rows):
    _, team_b, channel_b = rows
    client.force_login(finance_a)
    opened = client.get(f"/admin/orgs/team/{team_b.pk}/change/")
    assert opened.status_code == 302  # admin's "doesn't exist" redirect: not shown
    saved = client.post(f"/admin/orgs/team/{team_b.pk}/change/", {"name": "Hijacked"})
    assert saved.status_code == 302
    team_b.refresh_from_db()
    assert team_b.name == "Team B"
    deleted = client.post(f"/admin/notify/channel/{channel_b.pk}/delete/", {"post": "yes"})
    assert deleted.status_code == 302 and Channel.objects.filter(pk=channel_b.pk).exists()


def test_choices_are_limited_to_their_organizations(client, finance_a, org_a, org_b, charlie, rows):
    client.force_login(finance_a)
    page = client.get("/admin/orgs/team/add/").content.decode()
    assert charlie.email not in page  # members of other orgs are not offered
    assert 'name="organization"' not in page  # one organization: fixed, not picked


def test_new_rows_get_their_organization_and_foreign_members_are_refused(
    client, finance_a, org_a, org_b, charlie, bob, rows
):
    client.force_login(finance_a)
    response = client.post(
        "/admin/orgs/team/add/", {"name": "Finance team", "members": [charlie.pk]}
    )
    assert response.status_code == 200  # form error: charlie is not a choice
    assert not Team.objects.filter(name="Finance team").exists()
    response = client.post("/admin/orgs/team/add/", {"name": "Finance team", "members": [bob.pk]})
    assert response.status_code == 302
    created = Team.objects.get(name="Finance team")
    assert created.organization == org_a and list(created.members.all()) == [bob]


def test_posting_another_organization_id_is_refused(client, finance_a, org_a, org_b, rows, charlie):
    # Finance in two organizations: the field is shown, limited to those two; viewer in B.
    from costsite.orgs.membership import create_organization
    from costsite.orgs.models import Membership

    org_c = create_organization("Org C", owner=charlie)
    Membership.objects.create(organization=org_c, user=finance_a, role=Role.FINANCE)
    Membership.objects.create(organization=org_b, user=finance_a, role=Role.VIEWER)
    client.force_login(finance_a)
    page = client.get("/admin/notify/channel/add/").content.decode()
    assert "Org C" in page and "Org B" not in page
    response = client.post(
        "/admin/notify/channel/add/",
        {"organization": org_b.pk, "name": "x", "kind": "email", "target": "x@example.com"},
    )
    assert (
        response.status_code == 200 and "organization" in response.context["adminform"].form.errors
    )
    assert not Channel.objects.filter(name="x").exists()


def test_the_organization_of_a_row_cannot_be_changed(client, finance_a, org_a, org_b, rows):
    team_a = rows[0]
    client.force_login(finance_a)
    client.post(
        f"/admin/orgs/team/{team_a.pk}/change/", {"name": "Team A", "organization": org_b.pk}
    )
    team_a.refresh_from_db()
    assert team_a.organization == org_a


def test_members_and_viewers_get_no_admin(client, org_a, bob, rows):
    bob.is_staff = True
    bob.save()
    client.force_login(bob)  # viewer in A
    assert client.get("/admin/orgs/team/").status_code == 403


def test_superuser_sees_everything(client, rows, db):
    from costsite.accounts.models import User

    root = User.objects.create_superuser("root@example.com", "pw")
    client.force_login(root)
    page = client.get("/admin/orgs/team/").content.decode()
    assert "Team A" in page and "Team B" in page


def test_memberships_and_tokens_are_superuser_only(client, finance_a, rows):
    client.force_login(finance_a)
    assert client.get("/admin/orgs/membership/").status_code == 403
    assert client.get("/admin/orgs/apitoken/").status_code == 403
    assert client.get("/admin/accounts/user/").status_code == 403


def test_admin_channels_are_validated_like_the_portal(client, finance_a, org_a):
    client.force_login(finance_a)
    response = client.post(
        "/admin/notify/channel/add/",
        {"name": "h", "kind": "webhook", "target": "http://169.254.169.254/", "enabled": "on"},
    )
    assert response.status_code == 200 and "target" in response.context["adminform"].form.errors
    client.post(
        "/admin/notify/channel/add/",
        {"name": "mail", "kind": "email", "target": "A@Example.com", "enabled": "on"},
    )
    assert Channel.objects.get(name="mail").target == "a@example.com"


def test_the_organization_filter_names_only_their_organizations(client, finance_a, rows):
    client.force_login(finance_a)
    page = client.get("/admin/orgs/team/").content.decode()
    assert "Org A" in page
    assert "Org B" not in page  # the sidebar filter would list every organization


def test_a_filter_over_a_relation_offers_only_values_of_their_rows(rf, finance_a):
    from django.contrib import admin
    from django.contrib.admin import RelatedOnlyFieldListFilter

    from costsite.orgs.admin_scoping import OrgScopedAdminMixin

    class AnyTeamAdmin(OrgScopedAdminMixin, admin.ModelAdmin):
        list_filter = ["organization", "name", "members"]

    request = rf.get("/admin/orgs/team/")
    request.user = finance_a
    assert AnyTeamAdmin(Team, admin.site).get_list_filter(request) == [
        ("organization", RelatedOnlyFieldListFilter),
        "name",
        ("members", RelatedOnlyFieldListFilter),
    ]


def test_a_duplicate_name_is_a_form_error_when_the_organization_is_implied(
    client, finance_a, org_a, rows
):
    client.force_login(finance_a)
    response = client.post("/admin/orgs/team/add/", {"name": "team a"})
    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors()
    assert Team.objects.filter(organization=org_a).count() == 1


def test_a_duplicate_name_is_a_form_error_when_the_organization_is_read_only(
    client, finance_a, org_a, rows
):
    other = Team.objects.create(organization=org_a, name="Other")
    client.force_login(finance_a)
    response = client.post(f"/admin/orgs/team/{other.pk}/change/", {"name": "TEAM A"})
    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors()
    other.refresh_from_db()
    assert other.name == "Other"
    # the same name in another organization is no conflict
    response = client.post("/admin/orgs/team/add/", {"name": "Team B"})
    assert response.status_code == 302


def test_every_scoped_admin_checks_constraints_on_the_organization(client, finance_a, org_a):
    from estimates.models import ProviderDiscount

    ProviderDiscount.objects.create(organization=org_a, provider="aws", percent=10)
    client.force_login(finance_a)
    response = client.post(
        "/admin/estimates/providerdiscount/add/", {"provider": "aws", "percent": "20"}
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors()
    assert ProviderDiscount.objects.get(organization=org_a).percent == 10


def test_an_error_about_the_hidden_organization_is_an_error_of_the_row(rf, finance_a):
    from django.contrib import admin
    from django.core.exceptions import ValidationError

    request = rf.get("/admin/orgs/team/add/")
    request.user = finance_a
    form = admin.site._registry[Team].get_form(request)({"name": "x"})
    assert "organization" not in form.fields
    form.is_valid()
    form.add_error(None, ValidationError({"organization": "One per organization."}))
    assert form.non_field_errors() == ["One per organization."]


def test_a_user_whose_email_differs_only_in_case_is_a_form_error(client, alice, bob, db):
    from costsite.accounts.models import User

    root = User.objects.create_superuser("root@example.com", "pw")
    client.force_login(root)
    password = "a-long-passphrase-42"
    added = client.post(
        "/admin/accounts/user/add/",
        {
            "email": "ALICE@a.example",
            "usable_password": "true",
            "password1": password,
            "password2": password,
        },
    )
    assert added.status_code == 200 and "email" in added.context["adminform"].form.errors
    changed = client.post(
        f"/admin/accounts/user/{bob.pk}/change/",
        {
            "email": "Alice@A.example",
            "is_active": "on",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
        },
    )
    assert changed.status_code == 200 and "email" in changed.context["adminform"].form.errors
    assert User.objects.filter(email="alice@a.example").count() == 1
