from django import forms
from django.conf import settings

from budgets import allocation
from budgets.models import AlertRule, Budget, Expense
from budgets.summary import GROUPS, usable_tag_key
from costsite.fields import RowsField
from costsite.notify.models import Channel
from costsite.orgs.models import Team
from costsite.periods import Period, check_plausible_time


def currency_code(value: str) -> str:
    value = (value or "").strip().upper()
    if len(value) != 3 or not value.isalpha():
        raise forms.ValidationError("Use a three-letter ISO 4217 code such as USD.")
    return value


def tag_key(value: str) -> str:
    """A tag key, or "" for none."""
    if value and not usable_tag_key(value):
        raise forms.ValidationError("Tag keys may not contain control characters (a newline).")
    return value


class OrgForm(forms.ModelForm):
    """Limits team/parent/channel choices to the organization."""

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.organization = organization
        if "team" in self.fields:
            self.fields["team"].queryset = Team.objects.for_org(organization)
        if "channels" in self.fields:
            self.fields["channels"].queryset = Channel.objects.for_org(organization)

    def save(self, commit=True):
        self.instance.organization = self.organization
        return super().save(commit)


BUDGET_FIELDS = [
    "name",
    "team",
    "parent",
    "activity",
    "amount",
    "currency",
    "period",
    "start",
    "end",
    "scope_provider",
    "scope_service_category",
    "scope_region",
    "scope_tag_key",
    "scope_tag_value",
]


class BudgetRules:
    """The rules of a budget for model forms (portal and admin); the API's serializer applies
    the same ones."""

    def clean_currency(self):
        return currency_code(self.cleaned_data["currency"])

    def clean_scope_tag_key(self):
        return tag_key(self.cleaned_data["scope_tag_key"])

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        if cleaned.get("period") == Period.CUSTOM:
            if not cleaned.get("start") or not cleaned.get("end"):
                self.add_error("end", "A custom period needs start and end.")
            elif cleaned["end"] < cleaned["start"]:
                self.add_error("end", "The end is before the start.")
        if bool(cleaned.get("scope_tag_key")) != bool(cleaned.get("scope_tag_value")):
            self.add_error("scope_tag_value", "Give both the tag key and its value, or neither.")
        try:
            allocation.check(
                self.instance.pk,
                cleaned.get("parent"),
                cleaned.get("amount"),
                cleaned.get("currency"),
                cleaned.get("period"),
            )
        except allocation.AllocationError as exc:
            self.add_error(exc.field, str(exc))
        return cleaned


class BudgetForm(BudgetRules, OrgForm):
    class Meta:
        model = Budget
        fields = BUDGET_FIELDS
        widgets = {
            "start": forms.DateInput(attrs={"type": "date"}),
            "end": forms.DateInput(attrs={"type": "date"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        parents = Budget.objects.for_org(self.organization).filter(parent__isnull=True)
        if self.instance.pk:
            parents = parents.exclude(pk=self.instance.pk)
        self.fields["parent"].queryset = parents


class PresetForm(forms.Form):
    size = forms.ChoiceField(
        choices=[
            ("small", "Small team: $500/month"),
            ("medium", "Medium team: $2,000/month"),
            ("large", "Large team: $10,000/month"),
        ]
    )
    name = forms.CharField(max_length=allocation.PRESET_NAME_LENGTH, initial="GPU CI")
    team = forms.ModelChoiceField(queryset=Team.objects.none(), required=False)

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = Team.objects.for_org(organization)


class AlertRuleForm(OrgForm):
    class Meta:
        model = AlertRule
        fields = ["percent", "kind", "channels"]
        field_classes = {"channels": RowsField}
        widgets = {"channels": forms.CheckboxSelectMultiple}

    def __init__(self, *args, budget, **kwargs):
        super().__init__(*args, organization=budget.organization, **kwargs)
        self.budget = budget

    def clean(self):
        cleaned = super().clean()
        clash = AlertRule.objects.filter(
            budget=self.budget, kind=cleaned.get("kind"), percent=cleaned.get("percent")
        )
        if self.instance.pk:  # editing: the rule itself is no clash
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            self.add_error("percent", "This budget has that rule already.")
        return cleaned

    def save(self, commit=True):
        self.instance.budget = self.budget
        return super().save(commit)


class ExpenseRules:
    """The rules of an expense for model forms (portal and admin); the API's serializer applies
    the same ones."""

    def clean_currency(self):
        return currency_code(self.cleaned_data["currency"])

    def clean_amount(self):
        amount = self.cleaned_data["amount"]
        if amount == 0:
            raise forms.ValidationError("An expense of zero records nothing.")
        return amount

    def clean_incurred_at(self):
        return check_plausible_time(self.cleaned_data["incurred_at"])

    def clean_charge_period_end(self):
        end = self.cleaned_data["charge_period_end"]
        return end and check_plausible_time(end)

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("incurred_at"), cleaned.get("charge_period_end")
        if start and end and end < start:
            self.add_error("charge_period_end", "Before the start.")
        return cleaned


class ExpenseForm(ExpenseRules, OrgForm):
    class Meta:
        model = Expense
        fields = [
            "amount",
            "currency",
            "incurred_at",
            "team",
            "provider",
            "service",
            "region",
            "purchase_type",
            "description",
        ]
        widgets = {"incurred_at": forms.DateTimeInput(attrs={"type": "datetime-local"})}


class ImportForm(forms.Form):
    file = forms.FileField(help_text="A FOCUS 1.0–1.2 export: .csv or .csv.gz")
    cost_column = forms.ChoiceField(
        choices=[
            ("BilledCost", "BilledCost (invoiced)"),
            ("EffectiveCost", "EffectiveCost (amortised)"),
        ]
    )
    team = forms.ModelChoiceField(
        queryset=Team.objects.none(), required=False, help_text="Charge every row to this team."
    )

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = Team.objects.for_org(organization)

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > settings.COSTSITE_MAX_IMPORT_MB * 1024 * 1024:
            raise forms.ValidationError(
                f"The file is larger than {settings.COSTSITE_MAX_IMPORT_MB} MB."
            )
        return upload


class ReportForm(forms.Form):
    start = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    group_by = forms.ChoiceField(
        choices=[(g, g.replace("_", " ")) for g in GROUPS], initial="provider"
    )
    tag_key = forms.CharField(
        required=False, max_length=100, help_text="Group by this tag instead."
    )

    def clean_tag_key(self):
        return tag_key(self.cleaned_data["tag_key"])

    def params(self) -> dict:
        data = self.cleaned_data
        group_by = f"tag:{data['tag_key']}" if data.get("tag_key") else data["group_by"]
        return {
            "start": data["start"].isoformat(),
            "end": data["end"].isoformat(),
            "group_by": group_by,
        }


class SnoozeForm(forms.Form):
    hours = forms.TypedChoiceField(
        coerce=int,
        choices=[(4, "4 hours"), (24, "1 day"), (72, "3 days"), (168, "1 week")],
        initial=24,
    )
