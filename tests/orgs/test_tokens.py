"""API tokens: stored as digest only, shown once, scoped, expiring, revocable, bound to the
creator's current membership."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from costsite.orgs import tokens
from costsite.orgs.membership import change_role, remove_member
from costsite.orgs.models import ApiToken, Membership
from costsite.orgs.roles import Role
from tests.conftest import api_client

TEAMS = "/api/v1/orgs/org-a/teams/"


def all_text_in_database() -> str:
    """Every text value of every row of every table, to look for leaked secrets."""
    chunks = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608 - table names from Django
            for row in cursor.fetchall():
                chunks.extend(str(value) for value in row if value is not None)
    return "\n".join(chunks)


def test_token_is_stored_only_as_lookup_id_and_digest(org_a, alice):
    token, text = tokens.issue_token(org_a, alice, "ci", "write")
    assert text.startswith(f"cst_{token.lookup_id}_")
    secret_part = text.rsplit("_", 1)[1]
    stored = all_text_in_database()
    assert text not in stored
    assert secret_part not in stored
    assert token.digest in stored and len(token.digest) == 64


def test_token_created_in_the_api_is_shown_once(org_a, alice):
    client = api_client(user=alice)
    created = client.post("/api/v1/orgs/org-a/tokens/", {"name": "ci", "scope": "write"})
    assert created.status_code == 201
    text = created.json()["token"]
    assert text.startswith("cst_")
    listed = client.get("/api/v1/orgs/org-a/tokens/").json()["results"]
    assert listed[0]["token"] is None
    assert listed[0]["prefix"].startswith(text[:16])
    assert text not in client.get(f"/api/v1/orgs/org-a/tokens/{listed[0]['id']}/").content.decode()
    assert api_client(token=text).get(TEAMS).status_code == 200


def test_token_created_on_the_page_is_shown_once(org_a, alice, client):
    client.force_login(alice)
    response = client.post("/o/org-a/tokens/", {"name": "ci", "scope": "read"})
    text = response.context["new_token"]
    assert text in response.content.decode()
    assert text not in client.get("/o/org-a/tokens/").content.decode()
    assert api_client(token=text).get(TEAMS).status_code == 200


def test_token_form_errors_stay_beside_the_field(org_a, alice, client):
    client.force_login(alice)
    response = client.post("/o/org-a/tokens/", {"name": "", "scope": "admin", "expires_in_days": 0})
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert set(errors) == {"name", "scope", "expires_in_days"}
    assert not ApiToken.objects.exists()


def test_bad_token_input_in_the_api_is_a_400(org_a, alice):
    response = api_client(user=alice).post(
        "/api/v1/orgs/org-a/tokens/", {"name": "", "scope": "root", "expires_in_days": -1}
    )
    assert response.status_code == 400
    assert set(response.json()) == {"name", "scope", "expires_in_days"}


def test_read_token_reads_but_cannot_write(org_a, alice_read_token):
    client = api_client(token=alice_read_token)
    assert client.get(TEAMS).status_code == 200
    response = client.post(TEAMS, {"name": "x"})
    assert response.status_code == 403
    assert "read scope" in response.json()["detail"]


def test_write_token_acts_with_the_creators_current_role(org_a, alice, bob, member):
    admin_user = member(org_a, Role.ADMIN)
    text = tokens.issue_token(org_a, admin_user, "w", "write")[1]
    assert api_client(token=text).post(TEAMS, {"name": "one"}).status_code == 201
    change_role(
        Membership.objects.get(user=alice), Membership.objects.get(user=admin_user), "viewer"
    )
    assert api_client(token=text).post(TEAMS, {"name": "two"}).status_code == 403


def test_token_stops_working_when_its_creator_leaves(org_a, alice, member):
    leaver = member(org_a, Role.ADMIN)
    _token, text = tokens.issue_token(org_a, leaver, "w", "write")
    assert api_client(token=text).get(TEAMS).status_code == 200
    me = Membership.objects.get(user=leaver)
    remove_member(me, me)
    assert api_client(token=text).get(TEAMS).status_code == 401


def test_token_of_a_member_removed_then_readded_does_not_come_back(org_a, alice, member):
    person = member(org_a, Role.MEMBER)
    text = tokens.issue_token(org_a, person, "w", "write")[1]
    remove_member(Membership.objects.get(user=alice), Membership.objects.get(user=person))
    Membership.objects.create(organization=org_a, user=person, role=Role.MEMBER)
    assert api_client(token=text).get(TEAMS).status_code == 401


def test_deactivated_user_token_fails(org_a, alice, alice_write_token):
    alice.is_active = False
    alice.save()
    assert api_client(token=alice_write_token).get(TEAMS).status_code == 401


def test_expired_and_revoked_tokens_are_401(org_a, expired_token, revoked_token):
    for text in (expired_token, revoked_token):
        response = api_client(token=text).get(TEAMS)
        assert response.status_code == 401
        assert response["WWW-Authenticate"].startswith("Bearer")


def test_revoking_through_the_api_and_page(org_a, alice, client):
    token, text = tokens.issue_token(org_a, alice, "a", "write")
    assert (
        api_client(user=alice).delete(f"/api/v1/orgs/org-a/tokens/{token.pk}/").status_code == 204
    )
    assert api_client(token=text).get(TEAMS).status_code == 401
    token2, text2 = tokens.issue_token(org_a, alice, "b", "write")
    client.force_login(alice)
    client.post(f"/o/org-a/tokens/{token2.pk}/revoke/")
    assert api_client(token=text2).get(TEAMS).status_code == 401
    token2.refresh_from_db()
    assert token2.status == "revoked"


def test_members_see_and_revoke_only_their_own_tokens(org_a, alice, bob):
    alices = tokens.issue_token(org_a, alice, "alice's", "write")[0]
    bobs = tokens.issue_token(org_a, bob, "bob's", "read")[0]
    listed = api_client(user=bob).get("/api/v1/orgs/org-a/tokens/").json()["results"]
    assert [t["id"] for t in listed] == [bobs.pk]
    assert api_client(user=bob).delete(f"/api/v1/orgs/org-a/tokens/{alices.pk}/").status_code == 404
    owner_view = api_client(user=alice).get("/api/v1/orgs/org-a/tokens/").json()["results"]
    assert {t["id"] for t in owner_view} == {alices.pk, bobs.pk}


@pytest.mark.parametrize(
    "header",
    [
        "Token {text}",
        "Bearer",
        "Bearer cst_nothexnothe_aaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "Bearer {text}x",
        "Basic {text}",
    ],
)
def test_malformed_or_wrong_credentials(org_a, alice_write_token, header):
    client = api_client()
    client.credentials(HTTP_AUTHORIZATION=header.format(text=alice_write_token))
    assert client.get(TEAMS).status_code == 401


def test_token_is_not_accepted_from_the_query_string(org_a, alice_write_token):
    assert api_client().get(f"{TEAMS}?token={alice_write_token}").status_code == 401
    assert api_client().get(f"{TEAMS}?access_token={alice_write_token}").status_code == 401


def test_last_used_is_recorded_at_most_once_a_minute(org_a, alice, monkeypatch):
    token, text = tokens.issue_token(org_a, alice, "t", "read")
    client = api_client(token=text)
    client.get(TEAMS)
    token.refresh_from_db()
    first = token.last_used_at
    assert first is not None
    client.get(TEAMS)
    token.refresh_from_db()
    assert token.last_used_at == first
    later = first + timedelta(minutes=2)
    monkeypatch.setattr(timezone, "now", lambda: later)
    client.get(TEAMS)
    token.refresh_from_db()
    assert token.last_used_at == later


@pytest.mark.django_db(transaction=True)  # the request's own transaction commits or rolls back
def test_last_used_is_recorded_when_the_first_request_of_the_minute_is_refused(
    org_a, bob, bob_write_token
):
    client = api_client(token=bob_write_token)
    assert client.post(TEAMS, {"name": "x"}).status_code == 403  # bob is a viewer: rolled back
    token = ApiToken.objects.get(user=bob)
    assert token.last_used_at is not None
    assert client.get(TEAMS).status_code == 200  # within the minute: no new write
    first = token.last_used_at
    token.refresh_from_db()
    assert token.last_used_at == first


@pytest.mark.django_db(transaction=True)
def test_a_committed_use_is_not_written_again_at_the_end_of_the_request(
    org_a, alice, alice_write_token
):
    tokens._pending().clear()
    assert api_client(token=alice_write_token).get(TEAMS).status_code == 200
    assert tokens._pending() == {}  # confirmed by the commit: nothing left to record


def test_touch_last_used_skips_the_write_within_a_minute(org_a, alice, django_assert_num_queries):
    token, _ = tokens.issue_token(org_a, alice, "t", "read")
    now = timezone.now()
    with django_assert_num_queries(1):
        tokens.touch_last_used(token, now)
    with django_assert_num_queries(0):
        tokens.touch_last_used(token, now + timedelta(seconds=30))
    with django_assert_num_queries(1):
        tokens.touch_last_used(token, now + timedelta(seconds=61))


def test_issuetoken_prints_the_token_alone_on_its_last_line(org_a, alice, capsys):
    from django.core.management import call_command

    call_command("issuetoken", "--org", "org-a", "--user", "alice@a.example", "--scope", "read")
    text = capsys.readouterr().out.strip().splitlines()[-1]
    assert text.startswith("cst_") and " " not in text
    assert api_client(token=text).get(TEAMS).status_code == 200
