"""One request budget per caller: per API token, else per user, else per client address."""

from rest_framework.throttling import SimpleRateThrottle

from costsite.orgs.tokens import TokenAuth


class CallerRateThrottle(SimpleRateThrottle):
    """A sliding-window counter: the calls of the current window plus those of the previous
    window weighted by how much of it the sliding window still covers. Two cache operations a
    request whatever the rate (DRF's default keeps, and re-pickles on every request, a list of
    the timestamp of every call in the window, which grows with the allowed rate)."""

    scope = "caller"

    def get_cache_key(self, request, view):
        if isinstance(request.auth, TokenAuth):
            ident = f"token:{request.auth.token.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            ident = f"anon:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        self.now = self.timer()
        window, position = divmod(self.now / self.duration, 1)
        current_key, previous_key = f"{self.key}:{window:.0f}", f"{self.key}:{window - 1:.0f}"
        counts = self.cache.get_many([current_key, previous_key])
        used = counts.get(previous_key, 0) * (1 - position) + counts.get(current_key, 0)
        if used >= self.num_requests:
            self.wait_seconds = (1 - position) * self.duration
            return False
        if current_key not in counts and self.cache.add(current_key, 1, 2 * self.duration):
            return True
        try:
            self.cache.incr(current_key)
        except ValueError:  # expired in between
            self.cache.set(current_key, 1, 2 * self.duration)
        return True

    def wait(self):
        return getattr(self, "wait_seconds", None)
