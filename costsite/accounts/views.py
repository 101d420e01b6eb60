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


class ThrottledLoginView(LoginView):
    """The log-in page; a refusal because of too many failures answers 429."""

    form_class = LoginForm
    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if form.has_error(NON_FIELD_ERRORS, "throttled"):
            response.status_code = 429
        return response
