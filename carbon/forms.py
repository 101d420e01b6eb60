"""Page forms; validation is the API's (carbon/inputs.py, carbon/api.py)."""

from django import forms

from carbon.models import CarbonBudget
from costsite.fields import RowsField
from costsite.notify.models import Channel
from costsite.orgs.models import Team
from estimates.models import Provider, PurchaseOption

PROVIDERS = [("", "—"), *Provider.choices]


class FootprintForm(forms.Form):
    provider = forms.ChoiceField(choices=PROVIDERS, required=False)
    region = forms.CharField(
        max_length=40, required=False, widget=forms.TextInput(attrs={"list": "regions"})
    )
    instance_type = forms.CharField(
        max_length=60, required=False, widget=forms.TextInput(attrs={"list": "instance-types"})
    )
    accelerator = forms.CharField(
        max_length=40, required=False, widget=forms.TextInput(attrs={"list": "accelerators"})
    )
    gpu_count = forms.IntegerField(min_value=1, required=False, label="GPU count")
    hours = forms.FloatField(min_value=0.0001, required=False)
    utilization = forms.FloatField(
        min_value=0,
        max_value=1,
        required=False,
        help_text="0–1; default 1 (training keeps GPUs busy).",
    )
    power_w = forms.FloatField(
        required=False,
        label="Power per GPU (W)",
        help_text="Measured average, host share included.",
    )
    pue = forms.FloatField(required=False, label="PUE")
    intensity_g_per_kwh = forms.FloatField(required=False, label="Grid intensity (g/kWh)")
    energy_kwh = forms.FloatField(required=False, label="Measured energy (kWh)")
    offset_price_per_tonne = forms.FloatField(required=False, label="Offset price (USD/t)")


class GreenRegionsForm(forms.Form):
    accelerator = forms.CharField(
        max_length=40, required=False, widget=forms.TextInput(attrs={"list": "accelerators"})
    )
    gpu_count = forms.IntegerField(min_value=1, required=False, label="GPU count")
    provider = forms.ChoiceField(
        choices=PROVIDERS, required=False, help_text="With an instance type or the current region."
    )
    instance_type = forms.CharField(
        max_length=60, required=False, widget=forms.TextInput(attrs={"list": "instance-types"})
    )
    hours = forms.FloatField(min_value=0.001)
    purchase_option = forms.ChoiceField(choices=PurchaseOption.choices)
    current_region = forms.CharField(
        max_length=40, required=False, widget=forms.TextInput(attrs={"list": "regions"})
    )


class CarbonBudgetForm(forms.ModelForm):
    """Create (dashboard) and edit a carbon budget. The rules are the API's and the admin's:
    thresholds by check_thresholds, dates by check_supported_day (model field validators) and
    a custom period's dates by check_period (CarbonBudget.clean)."""

    thresholds = forms.CharField(
        max_length=60,
        required=False,
        help_text="Percentages that alert, comma-separated (none: no alerts).",
    )
    channels = RowsField(
        queryset=Channel.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = CarbonBudget
        fields = ["name", "team", "limit_kg", "period", "start", "end", "thresholds", "channels"]
        help_texts = {
            "team": "Only this team's jobs.",
            "start": "Custom period only: its first day.",
            "end": "Custom period only: its last day.",
        }
        widgets = {
            "start": forms.DateInput(attrs={"type": "date"}),
            "end": forms.DateInput(attrs={"type": "date"}),
        }

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.organization = organization
        self.fields["team"].queryset = Team.objects.for_org(organization)
        self.fields["channels"].queryset = Channel.objects.for_org(organization)
        shown = self.instance.thresholds if self.instance.pk else [80, 100]
        self.initial["thresholds"] = ", ".join(str(v) for v in shown)

    def clean_thresholds(self):
        try:
            values = [int(v) for v in self.cleaned_data["thresholds"].split(",") if v.strip()]
        except ValueError as exc:
            raise forms.ValidationError("Whole numbers, comma-separated.") from exc
        return sorted(values)  # checked by the model field's check_thresholds, as in API and admin

    def save(self, commit=True):
        self.instance.organization = self.organization
        return super().save(commit)
