"""Password guessing: after COSTSITE_LOGIN_MAX_FAILURES failures for a name (or more from an
address) within the window, logins are refused, the right password included, until it ends."""

import pytest
from django.core.cache import cache
from django.test import Client

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
