"""Password guessing: after COSTSITE_LOGIN_MAX_FAILURES failures for a name (or more from an
address) within the window, logins are refused, the right password included, until it ends."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client

from costsite.accounts.models import User

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="PostgreSQL's UPPER() folds U+0131 (dotless i) to I; SQLite's folds ASCII only",
)
DOTLESS_I_ALICE = "al\u0131ce@a.example"  # UPPER() of it equals UPPER('alice@a.example')

LOGIN = "/accounts/login/"


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


def attempt(password, email="alice@a.example", ip="10.0.0.1", url=LOGIN):
    return Client(REMOTE_ADDR=ip).post(url, {"username": email, "password": password})


def test_five_failures_lock_the_account_even_for_the_right_password(alice):
    for _ in range(5):
        response = attempt("wrong", ip="10.0.0.1")
        assert response.status_code == 200
        assert "Please enter a correct email address and password" in response.content.decode()
    # from another address: the name is locked
    locked = attempt("pw", ip="10.0.0.2")
    assert locked.status_code == 429
    assert "Too many failed log-in attempts" in locked.content.decode()
    assert "_auth_user_id" not in locked.client.session


def test_the_lock_ends_with_the_window(alice, settings, monkeypatch):
    from costsite.accounts import throttle

    for _ in range(5):
        attempt("wrong")
    assert attempt("pw").status_code == 429
    for key, _ in throttle._counters("alice@a.example", "10.0.0.1"):
        cache.delete(key)  # what the cache does when the window's timeout passes
    assert attempt("pw").status_code == 302


def test_fewer_failures_then_success_reset_the_name(alice):
    for _ in range(4):
        attempt("wrong")
    assert attempt("pw").status_code == 302
    for _ in range(4):
        assert attempt("wrong").status_code == 200
    assert attempt("pw").status_code == 302


def test_the_name_is_case_insensitive(alice):
    for email in ["Alice@A.example", "ALICE@a.example", "alice@a.example", "alice@A.EXAMPLE"]:
        attempt("wrong", email=email)
    attempt("wrong", email="alice@a.example ")
    assert attempt("pw").status_code == 429


def test_one_address_guessing_many_names_is_locked(alice, settings):
    settings.COSTSITE_LOGIN_MAX_FAILURES_PER_IP = 3
    for n in range(3):
        attempt("wrong", email=f"user{n}@example.com", ip="10.9.9.9")
    assert attempt("pw", ip="10.9.9.9").status_code == 429
    assert attempt("pw", ip="10.9.9.10").status_code == 302


def test_admin_login_is_throttled_too(alice):
    alice.is_staff = True
    alice.save()
    for _ in range(5):
        assert attempt("wrong", url="/admin/login/").status_code == 200
    response = attempt("pw", url="/admin/login/")
    assert "Too many failed log-in attempts" in response.content.decode()
    assert "_auth_user_id" not in response.client.session


def test_an_empty_password_does_not_clear_the_accounts_failures(alice):
    for _ in range(4):
        attempt("wrong", ip="10.0.0.1")
    assert attempt("", ip="10.0.0.2").status_code == 200  # a form error, no login
    attempt("wrong", ip="10.0.0.3")  # the fifth failure still counts from four
    assert attempt("pw", ip="10.0.0.4").status_code == 429


def test_admin_login_answers_429_with_the_message_when_locked(alice):
    alice.is_staff = True
    alice.save()
    for _ in range(5):
        attempt("wrong", url="/admin/login/")
    response = attempt("pw", url="/admin/login/")
    assert response.status_code == 429
    assert "Too many failed log-in attempts" in response.content.decode()
    assert "_auth_user_id" not in response.client.session
    # other admin log-in failures stay ordinary form errors
    assert (
        attempt("wrong", email="bob@a.example", ip="10.0.0.9", url="/admin/login/").status_code
        == 200
    )


@postgresql_only
def test_a_spelling_the_database_folds_to_the_account_does_not_sign_in(alice):
    response = attempt("pw", email=DOTLESS_I_ALICE)
    assert response.status_code == 200  # an unknown name: wrong credentials
    assert "_auth_user_id" not in response.client.session
    with pytest.raises(User.DoesNotExist):
        User.objects.get_by_natural_key(DOTLESS_I_ALICE)


@postgresql_only
def test_a_locked_account_stays_locked_for_every_spelling_that_reaches_it(alice):
    for _ in range(5):
        attempt("wrong", ip="10.0.0.1")
    # a spelling the database folds to the account, with the right password: never signed in
    for _ in range(5):
        response = attempt("pw", email=DOTLESS_I_ALICE, ip="10.0.0.5")
        assert response.status_code in (200, 429)
        assert "_auth_user_id" not in response.client.session
    # every spelling that does reach the account counts against it: locked
    for email in ["alice@a.example", "ALICE@A.EXAMPLE", " Alice@a.example "]:
        assert attempt("pw", email=email, ip="10.0.0.6").status_code == 429
