"""The new-fleet form: the API's FleetInput in HTML (lists as comma-separated text)."""

from django import forms

from budgets.models import Budget
from costsite.orgs.models import Team
from spot.models import FleetProvider, Strategy


def split(text: str) -> list[str]:
    return [part.strip() for part in (text or "").replace("\n", ",").split(",") if part.strip()]


class FleetForm(forms.Form):
    name = forms.CharField(max_length=120)
    team = forms.ModelChoiceField(Team.objects.none(), required=False)
    provider = forms.ChoiceField(
        choices=FleetProvider.choices,
        initial=FleetProvider.SIMULATED,
        help_text="Simulated fleets launch nothing: no cloud account needed, AWS catalogue prices.",
    )
    region = forms.CharField(
        max_length=40, initial="us-east-1", widget=forms.TextInput(attrs={"list": "regions"})
    )
    availability_zones = forms.CharField(
        required=False, help_text="Comma-separated, e.g. us-east-1a, us-east-1b (optional)."
    )
    instance_types = forms.CharField(
        required=False,
        widget=forms.TextInput(attrs={"list": "instance-types"}),
        help_text="Comma-separated, in order of preference; or an accelerator.",
    )
    accelerator = forms.CharField(max_length=40, required=False, help_text="e.g. A100, V100")
    target_count = forms.IntegerField(min_value=1, max_value=1000, initial=1)
    strategy = forms.ChoiceField(choices=Strategy.choices, initial=Strategy.BALANCED)
    max_price = forms.DecimalField(
        required=False, min_value=0, max_digits=12, decimal_places=6, help_text="USD/hour"
    )
    total_steps = forms.IntegerField(min_value=1, initial=10000)
    model_params = forms.FloatField(
        min_value=1, required=False, help_text="Optional: with tokens, the run teaches efficiency."
    )
    training_tokens = forms.FloatField(min_value=1, required=False)
    hours = forms.FloatField(
        min_value=0.01,
        required=False,
        label="Expected hours of work",
        help_text="For the advice only (on-demand, without interruptions).",
    )
    deadline = forms.DateTimeField(required=False, help_text="YYYY-MM-DD HH:MM (UTC)")
    fallback_on_demand_after = forms.IntegerField(
        min_value=0, required=False, help_text="Interruptions before replacements go on-demand."
    )
    fallback_unavailable_minutes = forms.IntegerField(min_value=0, required=False, initial=30)
    fallback_on_deadline = forms.BooleanField(required=False, initial=True)
    checkpoint_write_minutes = forms.FloatField(min_value=0.01, initial=5)
    restart_minutes = forms.FloatField(min_value=0, initial=10)
    checkpoint_interval_minutes = forms.FloatField(
        min_value=0.1, required=False, help_text="Empty: the optimum for the interruption rate."
    )
    image_id = forms.CharField(max_length=100, required=False, help_text="AWS: the AMI.")
    instance_profile = forms.CharField(max_length=300, required=False)
    subnet_ids = forms.CharField(required=False, help_text="Comma-separated.")
    security_group_ids = forms.CharField(required=False, help_text="Comma-separated.")
    startup_script = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="{{resume_from}}, {{resume_step}}, {{fleet_id}}, {{slot}} are replaced.",
    )
    budget = forms.ModelChoiceField(Budget.objects.none(), required=False)
    simulated_interruptions_per_hour = forms.FloatField(min_value=0, required=False, initial=0.5)
    simulated_steps_per_hour = forms.FloatField(min_value=0, required=False, initial=5000)
    simulated_seed = forms.IntegerField(min_value=0, required=False, initial=1)

    LISTS = ("availability_zones", "instance_types", "subnet_ids", "security_group_ids")

    def __init__(self, *args, organization=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = Team.objects.for_org(organization)
        self.fields["budget"].queryset = Budget.objects.for_org(organization)

    def api_data(self) -> dict:
        data = {k: v for k, v in self.cleaned_data.items() if v not in (None, "")}
        data.pop("hours", None)
        for name in self.LISTS:
            data[name] = split(self.cleaned_data.get(name, ""))
        for name in ("team", "budget"):
            if name in data:
                data[name] = data[name].pk
        data["fallback_on_deadline"] = self.cleaned_data.get("fallback_on_deadline", False)
        if "fallback_unavailable_minutes" not in data:
            data["fallback_unavailable_minutes"] = None
        return data
