import zoneinfo
from datetime import timedelta

from django import forms
from django.utils import timezone

from costsite.accounts.models import User
from costsite.fields import RowsField
from costsite.orgs.models import (
    TEAM_NAME_TAKEN,
    Membership,
    Organization,
    Team,
    TokenScope,
    team_name_taken,
)
from costsite.orgs.roles import Role


def time_zone_choices():
    return [(tz, tz) for tz in sorted(zoneinfo.available_timezones())]


class OrganizationForm(forms.ModelForm):
    time_zone = forms.ChoiceField(
        choices=time_zone_choices,
        initial="UTC",
        help_text="Budget periods start and end at midnight in this time zone.",
    )

    class Meta:
        model = Organization
        fields = ["name", "time_zone", "currency"]

    def clean_currency(self):
        value = self.cleaned_data["currency"].strip().upper()
        if len(value) != 3 or not value.isalpha():
            raise forms.ValidationError("Use a three-letter ISO 4217 code such as USD.")
        return value


class InvitationForm(forms.Form):
    email = forms.EmailField()
    role = forms.ChoiceField(choices=Role.choices, initial=Role.MEMBER)

    def __init__(self, *args, organization, actor: Membership, **kwargs):
        super().__init__(*args, **kwargs)
        self.organization = organization
        if actor.role != Role.OWNER:
            self.fields["role"].choices = [c for c in Role.choices if c[0] != Role.OWNER]

    def clean_email(self):
        email = self.cleaned_data["email"].strip().lower()
        if Membership.objects.for_org(self.organization).filter(user__email=email).exists():
            raise forms.ValidationError("This person is already a member.")
        return email


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


class TeamForm(forms.ModelForm):
    members = RowsField(
        queryset=User.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = Team
        fields = ["name", "description", "members"]

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.organization = organization
        self.fields["members"].queryset = User.objects.filter(
            memberships__organization=organization
        ).order_by("email")

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if team_name_taken(self.organization, name, self.instance):
            raise forms.ValidationError(TEAM_NAME_TAKEN)
        return name

    def save(self, commit=True):
        self.instance.organization = self.organization
        return super().save(commit)


class TokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What uses it, e.g. 'CI on main'.")
    scope = forms.ChoiceField(
        choices=TokenScope.choices,
        initial=TokenScope.READ,
        help_text="Write tokens act with your role; read tokens can only read.",
    )
    expires_in_days = forms.IntegerField(
        min_value=1, max_value=3650, required=False, help_text="Leave empty for no expiry."
    )

    def expires_at(self):
        days = self.cleaned_data.get("expires_in_days")
        return timezone.now() + timedelta(days=days) if days else None
