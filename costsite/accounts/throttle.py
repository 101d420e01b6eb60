"""Login throttling against password guessing, counted in the cache.

Failed logins are counted per account name and per client address in fixed windows of
`COSTSITE_LOGIN_WINDOW_MINUTES`. Once either count reaches its limit, every login for that
name (or from that address) is refused until the window ends, even with the right password,
so guessing gains nothing from continuing. The name is counted under `login_key`, the exact key
sign-in looks the account up by, so every spelling that reaches an account shares its count.
A successful login clears the name's count, not the address's (an attacker's own account must
not reset the address count).
"""

import hashlib

from django.conf import settings
from django.core.cache import cache

from costsite.accounts.models import login_key


def _key(kind: str, value: str) -> str:
    return f"login-failures:{kind}:{hashlib.sha256(value.encode()).hexdigest()}"


def _counters(username: str, ip: str | None):
    counters = [(_key("user", login_key(username)), settings.COSTSITE_LOGIN_MAX_FAILURES)]
    if ip:
        counters.append((_key("ip", ip), settings.COSTSITE_LOGIN_MAX_FAILURES_PER_IP))
    return counters


def is_locked(username: str, ip: str | None) -> bool:
    return any((cache.get(key) or 0) >= limit for key, limit in _counters(username, ip))


def record_failure(username: str, ip: str | None) -> None:
    window = settings.COSTSITE_LOGIN_WINDOW_MINUTES * 60
    for key, _ in _counters(username, ip):
        cache.add(key, 0, timeout=window)  # starts the window on the first failure
        try:
            cache.incr(key)
        except ValueError:  # the window ended between add and incr
            cache.set(key, 1, timeout=window)


def record_success(username: str) -> None:
    cache.delete(_key("user", login_key(username)))
