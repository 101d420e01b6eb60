import functools

from django.contrib.auth import login
from django.contrib.auth.views import LoginView
from django.core.exceptions import NON_FIELD_ERRORS
from django.db import transaction
from django.shortcuts import redirect, render

from costsite.accounts.forms import LoginForm, SignupForm
from costsite.orgs import invitations
from costsite.orgs.membership import create_organization


def signup(request):
    """Sign up. With `?invite=<secret>` the new account joins that organization instead of
    creating one."""
    secret = request.GET.get("invite", "")
    invitation = invitations.find_invitation(secret) if secret else None
    invite_error = None
    if secret:
        try:
            invitations.check_usable(invitation)
        except invitations.InvitationError as exc:
            invite_error, invitation = str(exc), None

    form = SignupForm(request.POST or None, invitation=invitation)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            user = form.save()
            if invitation is not None:
                try:
                    org = invitations.accept_invitation(secret, user).organization
                except invitations.InvitationError as exc:
                    transaction.set_rollback(True)
                    form.add_error(None, str(exc))
                    return render(request, "accounts/signup.html", {"form": form})
            else:
                org = create_organization(form.cleaned_data["organization_name"], owner=user)
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect("orgs:overview", org_slug=org.slug)
    return render(
        request,
        "accounts/signup.html",
        {"form": form, "invitation": invitation, "invite_error": invite_error},
    )


def answer_429_if_throttled(response):
    """A log-in page's response, made a 429 when its form refused because of too many failures
    (costsite.accounts.throttle); any other response is returned as it is."""
    form = (getattr(response, "context_data", None) or {}).get("form")
    if form is not None and form.has_error(NON_FIELD_ERRORS, "throttled"):
        response.status_code = 429
    return response


class ThrottledLoginView(LoginView):
    """The log-in page; a refusal because of too many failures answers 429."""

    form_class = LoginForm
    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def form_invalid(self, form):
        return answer_429_if_throttled(super().form_invalid(form))


def throttled_admin_login(admin_login):
    """The admin site's log-in view (`AdminSite.login`, which keeps its own page and context),
    answering 429 like the portal's when the throttle refuses."""

    @functools.wraps(admin_login)
    def view(request, extra_context=None):
        return answer_429_if_throttled(admin_login(request, extra_context))

    return view
