"""Signing up, organizations, invitations, roles and the last-owner rule."""

from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone

from costsite.accounts.models import User
from costsite.orgs import invitations
from costsite.orgs.membership import MembershipError, change_role, remove_member
from costsite.orgs.models import Invitation, Membership, Organization, Team, team_name_taken
from costsite.orgs.roles import Role
from tests.conftest import api_client


def test_signup_creates_the_account_and_first_organization(client, db):
    response = client.post(
        "/accounts/signup/",
        {
            "email": "New@Example.com",
            "name": "New Person",
            "password1": "a-long-passphrase-42",
            "password2": "a-long-passphrase-42",
            "organization_name": "Vision Lab",
        },
    )
    org = Organization.objects.get(name="Vision Lab")
    assert response.status_code == 302 and response["Location"] == f"/o/{org.slug}/"
    user = User.objects.get(email="new@example.com")
    assert Membership.objects.get(organization=org, user=user).role == Role.OWNER
    assert client.get(f"/o/{org.slug}/").status_code == 200


def test_signup_errors_are_shown_beside_fields_and_nothing_is_written(client, db):
    User.objects.create_user("taken@example.com", "pw")
    response = client.post(
        "/accounts/signup/",
        {"email": "TAKEN@example.com", "password1": "short", "password2": "other"},
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "email" in errors and "password2" in errors and "organization_name" in errors
    assert 'value="TAKEN@example.com"' in response.content.decode()
    assert Organization.objects.count() == 0


def test_login_with_email_is_case_insensitive(client, alice):
    response = client.post("/accounts/login/", {"username": "ALICE@a.example", "password": "pw"})
    assert response.status_code == 302


def test_home_goes_to_the_first_organization_or_to_create_one(client, org_a, alice, db):
    client.force_login(alice)
    assert client.get("/")["Location"] == "/o/org-a/"
    loner = User.objects.create_user("loner@example.com", "pw")
    client.force_login(loner)
    assert client.get("/")["Location"] == "/orgs/new/"
    response = client.post(
        "/orgs/new/", {"name": "Solo", "time_zone": "Europe/Berlin", "currency": "eur"}
    )
    org = Organization.objects.get(name="Solo")
    assert response["Location"] == f"/o/{org.slug}/"
    assert org.currency == "EUR" and org.time_zone == "Europe/Berlin"


def test_org_switcher_lists_every_organization_of_the_user(client, org_a, alice):
    from costsite.orgs.membership import create_organization

    create_organization("Zeta", owner=alice)
    client.force_login(alice)
    page = client.get("/o/org-a/").content.decode()
    assert "Org A</option>" in page and "Zeta</option>" in page


def test_invalid_time_zone_is_a_field_error(org_a, alice):
    response = api_client(user=alice).patch("/api/v1/orgs/org-a/", {"time_zone": "Mars/Olympus"})
    assert response.status_code == 400 and "time_zone" in response.json()


@pytest.mark.parametrize("slug", ["a%00b", "org-a%00", "org-a.b", "%C3%A9t%C3%A9"])
def test_an_org_slug_with_other_characters_than_a_slugs_is_a_404(client, org_a, alice, slug):
    client.force_login(alice)
    api = api_client(user=alice)
    assert api.get(f"/api/v1/orgs/{slug}/").status_code == 404
    assert api.patch(f"/api/v1/orgs/{slug}/", {"name": "x"}).status_code == 404
    assert api.get(f"/api/v1/orgs/{slug}/teams/").status_code == 404
    assert client.get(f"/o/{slug}/").status_code == 404
    assert client.get(f"/o/{slug}/teams/").status_code == 404
    Organization.objects.get(slug="org-a", name="Org A")


# --- invitations -------------------------------------------------------------------------------


def invite_on_page(client, inviter, email="dana@example.com", role="finance"):
    client.force_login(inviter)
    response = client.post("/o/org-a/members/", {"email": email, "role": role})
    return response.context["new_link"]


def test_invitation_link_is_shown_to_the_inviter_and_emailed(client, org_a, alice):
    link = invite_on_page(client, alice)
    assert link.startswith("http://testserver/invite/")
    assert len(mail.outbox) == 1 and link in mail.outbox[0].body
    assert mail.outbox[0].to == ["dana@example.com"]
    assert link not in client.get("/o/org-a/members/").content.decode()
    secret = link.rstrip("/").rsplit("/", 1)[1]
    assert not Invitation.objects.filter(digest=secret).exists()


def test_invitee_signs_up_through_the_link_and_joins_with_the_role(client, org_a, alice):
    link = invite_on_page(client, alice)
    secret = link.rstrip("/").rsplit("/", 1)[1]
    client.logout()
    page = client.get(link)
    assert "Sign up as dana@example.com" in page.content.decode()
    response = client.post(
        f"/accounts/signup/?invite={secret}",
        {"name": "Dana", "password1": "a-long-passphrase-42", "password2": "a-long-passphrase-42"},
    )
    assert response["Location"] == "/o/org-a/"
    dana = User.objects.get(email="dana@example.com")
    assert Membership.objects.get(organization=org_a, user=dana).role == Role.FINANCE
    assert Organization.objects.count() == 1  # no extra organization for an invitee


def test_existing_user_accepts_once_and_the_link_is_then_dead(client, org_a, alice, charlie):
    _, secret = invitations.create_invitation(org_a, "charlie@b.example", Role.MEMBER, alice)
    client.force_login(charlie)
    assert client.post(f"/invite/{secret}/")["Location"] == "/o/org-a/"
    assert Membership.objects.get(organization=org_a, user=charlie).role == Role.MEMBER
    again = client.post(f"/invite/{secret}/")
    assert again.status_code == 400 and "accepted" in again.content.decode()


def test_invitation_for_someone_else_is_refused(client, org_a, alice, charlie):
    _, secret = invitations.create_invitation(org_a, "dana@example.com", Role.ADMIN, alice)
    client.force_login(charlie)
    response = client.post(f"/invite/{secret}/")
    assert response.status_code == 400
    assert not Membership.objects.filter(organization=org_a, user=charlie).exists()


def test_expired_revoked_and_unknown_links_are_refused(client, org_a, alice, charlie):
    expired, expired_secret = invitations.create_invitation(
        org_a, "charlie@b.example", "member", alice
    )
    Invitation.objects.filter(pk=expired.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    revoked, revoked_secret = invitations.create_invitation(
        org_a, "charlie@b.example", "member", alice
    )
    invitations.revoke_invitation(revoked)
    client.force_login(charlie)
    for secret, word in (
        (expired_secret, "expired"),
        (revoked_secret, "revoked"),
        ("nope", "not valid"),
    ):
        response = client.post(f"/invite/{secret}/")
        assert response.status_code == 400 and word in response.content.decode()
    assert not Membership.objects.filter(organization=org_a, user=charlie).exists()


def test_claim_is_single_use_even_if_both_callers_pass_the_check(
    org_a, alice, charlie, monkeypatch
):
    """Two accepts racing past check_usable: the conditional UPDATE lets only one through."""
    _, secret = invitations.create_invitation(org_a, "charlie@b.example", "member", alice)
    monkeypatch.setattr(invitations, "check_usable", lambda invitation, user=None: None)
    invitations.accept_invitation(secret, charlie)
    with pytest.raises(invitations.InvitationError, match="already been used"):
        invitations.accept_invitation(secret, charlie)


def test_admin_cannot_invite_an_owner(org_a, member):
    admin_user = member(org_a, Role.ADMIN)
    response = api_client(user=admin_user).post(
        "/api/v1/orgs/org-a/invitations/", {"email": "x@example.com", "role": "owner"}
    )
    assert response.status_code == 400 and "role" in response.json()


def test_inviting_a_member_again_is_a_field_error(org_a, alice):
    response = api_client(user=alice).post(
        "/api/v1/orgs/org-a/invitations/", {"email": "BOB@a.example", "role": "admin"}
    )
    assert response.status_code == 400 and "email" in response.json()


def test_api_invitation_returns_the_link_once(org_a, alice):
    client = api_client(user=alice)
    created = client.post(
        "/api/v1/orgs/org-a/invitations/", {"email": "e@example.com", "role": "viewer"}
    )
    assert created.status_code == 201 and "/invite/" in created.json()["link"]
    assert (
        client.get(f"/api/v1/orgs/org-a/invitations/{created.json()['id']}/").json()["link"] is None
    )


# --- roles and the last owner ------------------------------------------------------------------


def owner_membership(org):
    return Membership.objects.for_org(org).get(role=Role.OWNER)


def test_last_owner_cannot_be_demoted_or_removed(org_a, alice):
    me = owner_membership(org_a)
    with pytest.raises(MembershipError):
        change_role(me, me, Role.ADMIN)
    with pytest.raises(MembershipError):
        remove_member(me, me)
    client = api_client(user=alice)
    assert (
        client.patch(f"/api/v1/orgs/org-a/members/{me.pk}/", {"role": "admin"}).status_code == 409
    )
    assert client.delete(f"/api/v1/orgs/org-a/members/{me.pk}/").status_code == 409
    assert owner_membership(org_a).user == alice


def test_with_a_second_owner_the_first_may_step_down(org_a, alice, bob):
    me, bobs = owner_membership(org_a), Membership.objects.get(user=bob)
    change_role(me, bobs, Role.OWNER)
    change_role(me, me, Role.ADMIN)
    assert Membership.objects.get(user=alice).role == Role.ADMIN


def test_admins_cannot_touch_owners_or_grant_owner(org_a, alice, bob, member):
    admin_user = member(org_a, Role.ADMIN)
    client = api_client(user=admin_user)
    owner = owner_membership(org_a)
    bobs = Membership.objects.get(user=bob)
    assert (
        client.patch(f"/api/v1/orgs/org-a/members/{owner.pk}/", {"role": "viewer"}).status_code
        == 403
    )
    assert client.delete(f"/api/v1/orgs/org-a/members/{owner.pk}/").status_code == 403
    assert (
        client.patch(f"/api/v1/orgs/org-a/members/{bobs.pk}/", {"role": "owner"}).status_code == 403
    )
    assert (
        client.patch(f"/api/v1/orgs/org-a/members/{bobs.pk}/", {"role": "finance"}).status_code
        == 200
    )


def test_unknown_role_is_a_field_error(org_a, alice, bob):
    bobs = Membership.objects.get(user=bob)
    response = api_client(user=alice).patch(
        f"/api/v1/orgs/org-a/members/{bobs.pk}/", {"role": "god"}
    )
    assert response.status_code == 400 and "role" in response.json()


def test_a_viewer_may_leave(org_a, bob, client):
    client.force_login(bob)
    bobs = Membership.objects.get(user=bob)
    assert client.post(f"/o/org-a/members/{bobs.pk}/remove/")["Location"] == "/"
    assert not Membership.objects.filter(pk=bobs.pk).exists()


def test_removing_a_member_takes_them_off_teams(org_a, alice, bob):
    from costsite.orgs.models import Team

    team = Team.objects.create(organization=org_a, name="T")
    team.members.add(bob)
    remove_member(owner_membership(org_a), Membership.objects.get(user=bob))
    assert list(team.members.all()) == []


def test_last_owner_message_on_the_page(org_a, alice, client):
    client.force_login(alice)
    me = owner_membership(org_a)
    response = client.post(f"/o/org-a/members/{me.pk}/role/", {"role": "viewer"}, follow=True)
    assert "last owner" in response.content.decode()
    assert owner_membership(org_a).user == alice


# --- teams -------------------------------------------------------------------------------------


def test_team_members_must_belong_to_the_organization(org_a, org_b, alice, bob, charlie):
    client = api_client(user=alice)
    response = client.post(
        "/api/v1/orgs/org-a/teams/", {"name": "ML", "members": [bob.pk, charlie.pk]}
    )
    assert response.status_code == 400 and "members" in response.json()
    ok = client.post("/api/v1/orgs/org-a/teams/", {"name": "ML", "members": [bob.pk]})
    assert ok.status_code == 201 and ok.json()["members"] == [bob.pk]


def test_team_names_are_unique_per_organization_case_insensitively(org_a, org_b, alice, charlie):
    assert (
        api_client(user=alice).post("/api/v1/orgs/org-a/teams/", {"name": "ML"}).status_code == 201
    )
    dup = api_client(user=alice).post("/api/v1/orgs/org-a/teams/", {"name": "ml"})
    assert dup.status_code == 400 and "name" in dup.json()
    assert (
        api_client(user=charlie).post("/api/v1/orgs/org-b/teams/", {"name": "ML"}).status_code
        == 201
    )


def test_team_page_form_keeps_input_and_limits_members(client, org_a, org_b, alice, charlie):
    client.force_login(alice)
    response = client.post(
        "/o/org-a/teams/", {"name": "", "description": "kept", "members": [charlie.pk]}
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert "name" in form.errors and "members" in form.errors
    assert "kept" in response.content.decode()


@pytest.mark.parametrize("raw", ["1e400", "-1e400", str(10**30), "-1", '"x"', "true"])
def test_team_member_ids_no_member_can_have_are_a_400(org_a, alice, raw):
    response = api_client(user=alice).post(
        "/api/v1/orgs/org-a/teams/",
        f'{{"name": "T", "members": [{raw}]}}',
        content_type="application/json",
    )
    assert response.status_code == 400 and "members" in response.json()
    assert not Team.objects.exists()


# PostgreSQL's UPPER() leaves the Kelvin sign (U+212A) alone, its LOWER() makes it "k": names
# that the constraint's Lower("name") counts as equal, but `iexact` does not.
KELVIN = "\u212aelvin"
postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite's LOWER() and UPPER() fold ASCII only"
)


def test_team_name_check_compares_like_the_constraint(org_a, org_b):
    team = Team.objects.create(organization=org_a, name="Kelvin")
    assert team_name_taken(org_a, "kELVIN")
    assert not team_name_taken(org_a, "kelvin", team)  # its own name
    assert not team_name_taken(org_b, "kelvin")
    if connection.vendor == "postgresql":
        assert team_name_taken(org_a, KELVIN)


@postgresql_only
def test_team_page_name_differing_only_by_unicode_case_is_a_form_error(client, org_a, alice):
    Team.objects.create(organization=org_a, name="kelvin")
    client.force_login(alice)
    response = client.post("/o/org-a/teams/", {"name": KELVIN, "description": ""})
    assert response.status_code == 200
    assert "name" in response.context["form"].errors
    assert Team.objects.count() == 1


@postgresql_only
def test_team_api_name_differing_only_by_unicode_case_is_a_400(org_a, alice):
    Team.objects.create(organization=org_a, name="kelvin")
    client = api_client(user=alice)
    response = client.post("/api/v1/orgs/org-a/teams/", {"name": KELVIN})
    assert response.status_code == 400 and "name" in response.json()
    other = Team.objects.create(organization=org_a, name="other")
    response = client.patch(f"/api/v1/orgs/org-a/teams/{other.pk}/", {"name": KELVIN})
    assert response.status_code == 400 and "name" in response.json()


def test_invitation_stands_when_the_email_cannot_be_sent(client, org_a, alice, monkeypatch):
    import smtplib

    def refuse(*args, **kwargs):
        raise smtplib.SMTPServerDisconnected("gone")

    monkeypatch.setattr(invitations, "send_mail", refuse)
    client.force_login(alice)
    response = client.post("/o/org-a/members/", {"email": "dana@example.com", "role": "member"})
    assert response.status_code == 200
    assert "could not be sent" in response.content.decode()
    assert response.context["new_link"] in response.content.decode()
    created = api_client(user=alice).post(
        "/api/v1/orgs/org-a/invitations/", {"email": "eve@example.com", "role": "member"}
    )
    assert created.status_code == 201 and "could not be sent" in created.json()["email_error"]


def test_password_reset_by_email(client, alice):
    import re

    assert client.post("/accounts/password/reset/", {"email": "alice@a.example"}).status_code == 302
    link = re.search(
        r"http://testserver(/accounts/password/reset/\S+/)", mail.outbox[0].body
    ).group(1)
    form_url = client.get(link)["Location"]  # Django swaps the token for a session marker
    response = client.post(
        form_url,
        {
            "new_password1": "another-long-passphrase-7",
            "new_password2": "another-long-passphrase-7",
        },
    )
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.check_password("another-long-passphrase-7")
