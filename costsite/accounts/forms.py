from django import forms
from django.contrib.auth.forms import BaseUserCreationForm

from costsite.accounts.models import User


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
        email = self.cleaned_data["email"].strip().lower()
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError("An account with this email exists. Log in instead.")
        return email
