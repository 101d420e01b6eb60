"""Page forms; validation is the API's (carbon/inputs.py, carbon/api.py)."""

from django import forms

from carbon.models import check_thresholds
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


class CarbonBudgetForm(forms.Form):
    name = forms.CharField(max_length=120)
    limit_kg = forms.FloatField(min_value=0.001, label="Limit (kg CO2e)")
    period = forms.ChoiceField(
        choices=[("monthly", "Monthly"), ("quarterly", "Quarterly"), ("yearly", "Yearly")]
    )
    team = forms.ModelChoiceField(
        queryset=Team.objects.none(), required=False, help_text="Only this team's jobs."
    )
    thresholds = forms.CharField(
        max_length=60, initial="80, 100", help_text="Percentages that alert, comma-separated."
    )
    channels = RowsField(
        queryset=Channel.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = Team.objects.for_org(organization)
        self.fields["channels"].queryset = Channel.objects.for_org(organization)

    def clean_thresholds(self):
        try:
            values = [int(v) for v in self.cleaned_data["thresholds"].split(",") if v.strip()]
        except ValueError as exc:
            raise forms.ValidationError("Whole numbers, comma-separated.") from exc
        check_thresholds(values)  # as the API and admin do: a repeated one is an error
        return sorted(values)
