"""One request budget per caller: per API token, else per user, else per client address."""

from rest_framework.throttling import SimpleRateThrottle

from costsite.orgs.tokens import TokenAuth


class CallerRateThrottle(SimpleRateThrottle):
    scope = "caller"

    def get_cache_key(self, request, view):
        if isinstance(request.auth, TokenAuth):
            ident = f"token:{request.auth.token.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            ident = f"anon:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
