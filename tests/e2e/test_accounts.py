"""Browser: signing up, organizations, invitations, API tokens."""

import json
import re
import urllib.error
import urllib.request

import pytest
from playwright.sync_api import expect

from costsite.orgs.models import Membership
from tests.e2e.ui import log_in, open_section

pytestmark = pytest.mark.django_db(transaction=True)


def test_sign_up_and_create_an_organization(page):
    page.goto("/")
    page.get_by_role("banner").get_by_role("link", name="Sign up").click()
    page.get_by_label("Email address", exact=True).fill("erin@acme.example")
    page.get_by_label("Name", exact=True).fill("Erin")
    page.get_by_label("Password", exact=True).fill("a long passphrase 42")
    page.get_by_label("Password confirmation", exact=True).fill("a long passphrase 42")
    page.get_by_label("Organization name", exact=True).fill("Acme ML")
    page.get_by_role("button", name="Create account").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Acme ML")
    expect(page.get_by_text("You are owner")).to_be_visible()
    expect(page.get_by_role("cell", name="erin@acme.example")).to_be_visible()

    # A second organization, reached through the organization switcher.
    page.get_by_role("combobox", name="Organization").select_option(label="+ New organization…")
    expect(page.get_by_role("heading", name="New organization")).to_be_visible()
    page.get_by_label("Name", exact=True).fill("Acme Research")
    page.get_by_role("button", name="Create organization").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Acme Research")
    switcher = page.get_by_role("combobox", name="Organization")
    expect(switcher.locator("option:checked")).to_have_text("Acme Research")
    expect(switcher.locator("option")).to_have_text(
        ["Acme ML", "Acme Research", "+ New organization…"]
    )
    switcher.select_option(label="Acme ML")
    expect(page.get_by_role("heading", level=1)).to_have_text("Acme ML")


def test_invite_a_member_who_signs_up_from_the_link(pages, org_a, alice):
    owner = pages.new("owner")
    log_in(owner, alice.email)
    open_section(owner, "Members")
    owner.get_by_label("Email", exact=True).fill("dana@a.example")
    owner.get_by_label("Role", exact=True).select_option("finance")
    owner.get_by_role("button", name="Send invitation").click()

    link = owner.get_by_label("Invitation link", exact=True).input_value()
    assert re.fullmatch(r"http://[^/]+/invite/[\w-]+/", link), link
    pending = owner.locator("section", has_text="Pending invitations")
    expect(pending.get_by_role("row", name=re.compile("dana@a.example"))).to_contain_text("Finance")

    invitee = pages.new("invitee")
    invitee.goto(link)
    expect(invitee.get_by_text("You are invited to join Org A as finance")).to_be_visible()
    invitee.get_by_role("link", name="Sign up as dana@a.example").click()
    expect(invitee.get_by_label("Email address", exact=True)).to_have_value("dana@a.example")
    expect(invitee.get_by_label("Email address", exact=True)).to_be_disabled()
    invitee.get_by_label("Name", exact=True).fill("Dana")
    invitee.get_by_label("Password", exact=True).fill("a long passphrase 42")
    invitee.get_by_label("Password confirmation", exact=True).fill("a long passphrase 42")
    invitee.get_by_role("button", name="Create account").click()

    expect(invitee.get_by_role("heading", level=1)).to_have_text("Org A")
    expect(invitee.get_by_text("You are finance")).to_be_visible()

    owner.reload()
    members = owner.locator("table").first
    expect(members.get_by_role("row", name=re.compile("dana@a.example"))).to_be_visible()
    expect(pending).to_contain_text("None.")
    assert Membership.objects.get(organization=org_a, user__email="dana@a.example").role == (
        "finance"
    )


def api_status(url, token):
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)


def test_create_and_revoke_an_api_token(page, live_server, org_a, alice):
    log_in(page, alice.email)
    open_section(page, "API tokens")
    expect(page.get_by_text("No tokens yet.")).to_be_visible()
    page.get_by_label("Name", exact=True).fill("CI on main")
    page.get_by_label("Scope", exact=True).select_option("read")
    page.get_by_role("button", name="Create token").click()

    secret = page.get_by_label("New API token", exact=True).input_value()
    assert secret.startswith("cst_")
    expect(page.get_by_text("it is shown only once")).to_be_visible()
    row = page.get_by_role("row", name=re.compile("CI on main"))
    expect(row).to_contain_text("active")
    expect(row).not_to_contain_text(secret)

    teams = f"{live_server.url}/api/v1/orgs/org-a/teams/"
    assert api_status(teams, secret)[0] == 200

    page.goto(page.url)  # the page again, not the form resent
    expect(page.get_by_label("New API token", exact=True)).to_have_count(0)
    expect(page.get_by_text(secret)).to_have_count(0)

    row.get_by_role("button", name="Revoke").click()
    assert page.dialogs == ["Revoke CI on main? Anything using it stops working."]
    expect(page.get_by_role("status")).to_contain_text("Revoked CI on main.")
    expect(row).to_contain_text("revoked")
    expect(row.get_by_role("button", name="Revoke")).to_have_count(0)
    status, body = api_status(teams, secret)
    assert status == 401, body
