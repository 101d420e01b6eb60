from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm, BaseUserCreationForm

from costsite.accounts import throttle
from costsite.accounts.models import User, login_key

THROTTLED = (
    "Too many failed log-in attempts for this account or from this address. "
    "Try again in %(minutes)d minutes."
)


class ThrottledLoginMixin:
    """Refuses to check any password while the name or the address is locked (see throttle)."""

    def clean(self):
        username = self.cleaned_data.get("username") or ""
        ip = self.request.META.get("REMOTE_ADDR") if self.request else None
        if throttle.is_locked(username, ip):
            raise forms.ValidationError(
                THROTTLED,
                code="throttled",
                params={"minutes": settings.COSTSITE_LOGIN_WINDOW_MINUTES},
            )
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            throttle.record_failure(username, ip)
            raise
        if self.get_user() is not None:  # a form without a password returns without raising
            throttle.record_success(username)
        return cleaned


class LoginForm(ThrottledLoginMixin, AuthenticationForm):
    pass


class AdminLoginForm(ThrottledLoginMixin, AdminAuthenticationForm):
    pass


class SignupForm(BaseUserCreationForm):
    """Email + password. Creates the first organization unless the person joins by invitation."""

    organization_name = forms.CharField(
        max_length=120,
        required=False,
        help_text="Your first organization. You can create more and invite colleagues later.",
    )

    class Meta:
        model = User
        fields = ("email", "name")

    def __init__(self, *args, invitation=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.invitation = invitation
        self.fields["email"].widget.attrs["autofocus"] = True
        if invitation is not None:
            del self.fields["organization_name"]
            self.fields["email"].initial = invitation.email
            self.fields["email"].disabled = True
        else:
            self.fields["organization_name"].required = True

    def clean_email(self):
        email = login_key(self.cleaned_data["email"])
        if User.objects.filter(email=email).exists():
            raise forms.ValidationError("An account with this email exists. Log in instead.")
        return email
