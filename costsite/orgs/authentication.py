"""DRF authentication with `Authorization: Bearer cst_...` API tokens."""

from rest_framework import authentication, exceptions

from costsite.orgs import tokens


class BearerTokenAuthentication(authentication.BaseAuthentication):
    """Tokens are accepted only from the Authorization header (never a query string or cookie)."""

    keyword = "Bearer"

    def authenticate(self, request):
        # From META (as WSGI decoded it, latin-1) rather than DRF's get_authorization_header,
        # whose request.headers builds a dict of every header on each request.
        header = request.META.get("HTTP_AUTHORIZATION", "")
        scheme, _, token_text = header.partition(" ")
        if scheme.lower() != self.keyword.lower():
            return None
        token_text = token_text.strip()
        if not token_text:
            raise exceptions.AuthenticationFailed("No token given after 'Bearer'.")
        auth = tokens.authenticate(token_text)
        if auth is None:
            raise exceptions.AuthenticationFailed("Invalid, expired or revoked token.")
        return auth.token.user, auth

    def authenticate_header(self, request):
        return f'{self.keyword} realm="api"'
