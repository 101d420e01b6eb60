"""Account pages, organization creation and invitation links for people who are not signed in
(DESIGN.md §3): pages that need an account send anonymous people to the log-in page and change
nothing; the log-in page follows only on-site `next` addresses."""

from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.cache import cache

from costsite.orgs import invitations
from costsite.orgs.models import Invitation, Membership, Organization
from costsite.orgs.roles import Role

LOGIN = "/accounts/login/"
LOGOUT = "/accounts/logout/"
PASSWORD = "/accounts/password/"
CREATE_ORG = "/orgs/new/"

OFF_SITE = [
    "https://evil.example/",
    "//evil.example",
    "///evil.example/",
    "/\\evil.example",
    "https://testserver.evil.example/",
    "javascript:alert(1)",
]


@pytest.fixture(autouse=True)
def _empty_cache():
    """Log-in failures are counted in the cache (tests/security/test_login_throttle.py)."""
    cache.clear()
    yield
    cache.clear()


def assert_sent_to_login(response, path):
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert location.path == LOGIN
    assert parse_qs(location.query) == {"next": [path]}


def signed_in(client):
    return "_auth_user_id" in client.session


# --- password change ---------------------------------------------------------------------------


def test_password_change_page_sends_anonymous_people_to_log_in(client, db):
    assert_sent_to_login(client.get(PASSWORD), PASSWORD)


def test_anonymous_password_change_post_changes_nothing(client, alice):
    body = {
        "old_password": "pw",
        "new_password1": "x-9-long-pass",
        "new_password2": "x-9-long-pass",
    }
    assert_sent_to_login(client.post(PASSWORD, body), PASSWORD)
    alice.refresh_from_db()
    assert alice.check_password("pw")
    assert not alice.check_password("x-9-long-pass")


def test_signed_in_user_changes_their_password(client, alice):
    """The counterpart of the two above: the page does work for its owner."""
    client.force_login(alice)
    assert client.get(PASSWORD).status_code == 200
    body = {
        "old_password": "pw",
        "new_password1": "x-9-long-pass",
        "new_password2": "x-9-long-pass",
    }
    assert client.post(PASSWORD, body)["Location"] == "/"
    alice.refresh_from_db()
    assert alice.check_password("x-9-long-pass")


# --- log out -----------------------------------------------------------------------------------


def test_logout_post_signs_out(client, org_a, alice):
    client.force_login(alice)
    assert client.get("/o/org-a/").status_code == 200
    response = client.post(LOGOUT)
    assert response.status_code == 302 and response["Location"] == LOGIN
    assert not signed_in(client)
    assert_sent_to_login(client.get("/o/org-a/"), "/o/org-a/")


def test_logout_get_is_refused_and_keeps_the_session(client, org_a, alice):
    """Django 5's LogoutView answers GET with 405: a link or an <img> cannot sign anyone out."""
    client.force_login(alice)
    response = client.get(LOGOUT)
    assert response.status_code == 405
    assert signed_in(client)
    assert client.get("/o/org-a/").status_code == 200


def test_logout_post_ignores_an_off_site_next(client, alice):
    client.force_login(alice)
    response = client.post(f"{LOGOUT}?next=https://evil.example/")
    assert response.status_code == 302 and response["Location"] == LOGIN
    assert not signed_in(client)


# --- log in with next= -------------------------------------------------------------------------


def log_in(client, next_url):
    return client.post(LOGIN, {"username": "alice@a.example", "password": "pw", "next": next_url})


def test_login_follows_an_on_site_next(client, org_a, alice):
    response = log_in(client, "/o/org-a/settings/")
    assert response.status_code == 302 and response["Location"] == "/o/org-a/settings/"
    assert signed_in(client)


def test_login_follows_an_on_site_next_in_the_query_string(client, org_a, alice):
    response = client.post(
        f"{LOGIN}?next=/o/org-a/members/", {"username": "alice@a.example", "password": "pw"}
    )
    assert response["Location"] == "/o/org-a/members/"


@pytest.mark.parametrize("next_url", OFF_SITE)
def test_login_ignores_an_off_site_next(client, org_a, alice, next_url):
    response = log_in(client, next_url)
    assert response.status_code == 302
    assert response["Location"] == "/"  # LOGIN_REDIRECT_URL, the home page
    assert signed_in(client)


@pytest.mark.parametrize("next_url", OFF_SITE)
def test_login_page_does_not_carry_an_off_site_next(client, db, next_url):
    response = client.get(LOGIN, {"next": next_url})
    assert response.status_code == 200
    assert response.context["next"] == ""
    assert "evil.example" not in response.content.decode()


def test_login_page_carries_an_on_site_next(client, db):
    response = client.get(LOGIN, {"next": "/o/org-a/"})
    assert 'name="next" value="/o/org-a/"' in response.content.decode()


@pytest.mark.parametrize("next_url", ["https://evil.example/", "//evil.example"])
def test_signed_in_visit_to_login_ignores_an_off_site_next(client, org_a, alice, next_url):
    """redirect_authenticated_user sends a signed-in person on at once: the same check applies."""
    client.force_login(alice)
    response = client.get(LOGIN, {"next": next_url})
    assert response.status_code == 302 and response["Location"] == "/"


def test_failed_login_with_next_does_not_redirect(client, org_a, alice):
    response = client.post(
        LOGIN, {"username": "alice@a.example", "password": "wrong", "next": "/o/org-a/"}
    )
    assert response.status_code == 200
    assert not signed_in(client)


# --- creating an organization ------------------------------------------------------------------


def test_create_org_page_sends_anonymous_people_to_log_in(client, db):
    assert_sent_to_login(client.get(CREATE_ORG), CREATE_ORG)


def test_anonymous_create_org_post_stores_nothing(client, org_a):
    before = Organization.objects.count()
    response = client.post(CREATE_ORG, {"name": "Sneaky", "time_zone": "UTC", "currency": "usd"})
    assert_sent_to_login(response, CREATE_ORG)
    assert Organization.objects.count() == before
    assert not Organization.objects.filter(name="Sneaky").exists()


def test_signed_in_user_creates_an_organization(client, alice):
    """The same POST as above does create one for a signed-in person."""
    client.force_login(alice)
    response = client.post(CREATE_ORG, {"name": "Sneaky", "time_zone": "UTC", "currency": "usd"})
    assert response.status_code == 302
    org = Organization.objects.get(name="Sneaky")
    assert Membership.objects.get(organization=org, user=alice).role == Role.OWNER


# --- accepting an invitation -------------------------------------------------------------------


@pytest.fixture
def invitation(org_a, alice, charlie):
    """An invitation to org A for charlie's address, and its link secret."""
    return invitations.create_invitation(org_a, "charlie@b.example", Role.ADMIN, alice)


def test_anonymous_sees_what_the_invitation_is_for(client, invitation):
    """As implemented: anyone holding the link sees the organization and role, with links to
    sign up as the invited address or to log in and come back; nothing is accepted."""
    inv, secret = invitation
    response = client.get(f"/invite/{secret}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Org A" in page and "as admin" in page
    assert f"/accounts/signup/?invite={secret}" in page
    assert f"/accounts/login/?next=/invite/{secret}/" in page
    assert "Accept and join" not in page  # the accept form is for signed-in people only
    inv.refresh_from_db()
    assert inv.status == "pending"


def test_anonymous_get_of_an_unknown_link_is_refused(client, db):
    response = client.get("/invite/not-a-secret/")
    assert response.status_code == 400
    assert "not valid" in response.content.decode()


def test_anonymous_post_does_not_accept_the_invitation(client, invitation, charlie):
    inv, secret = invitation
    memberships = Membership.objects.count()
    response = client.post(f"/invite/{secret}/")
    assert response.status_code == 200  # the same page as a GET, nothing done
    inv.refresh_from_db()
    assert (inv.accepted_at, inv.accepted_by) == (None, None)
    assert inv.status == "pending"
    assert Membership.objects.count() == memberships
    assert not Membership.objects.filter(organization=inv.organization, user=charlie).exists()


def test_invitation_still_works_after_an_anonymous_post(client, invitation, charlie):
    """The anonymous POST did not use up the link: the invited person logs in through the
    page's link (next=) and accepts."""
    inv, secret = invitation
    client.post(f"/invite/{secret}/")
    link = f"/invite/{secret}/"
    logged_in = client.post(
        f"{LOGIN}?next={link}", {"username": "charlie@b.example", "password": "pw"}
    )
    assert logged_in["Location"] == link
    assert client.post(link)["Location"] == "/o/org-a/"
    assert Membership.objects.get(organization=inv.organization, user=charlie).role == Role.ADMIN
    assert Invitation.objects.get(pk=inv.pk).accepted_by == charlie
