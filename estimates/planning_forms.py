"""Forms of the planner and the training-run pages (checked again by the API's serializers)."""

from django import forms

from costsite.orgs.models import Team
from costsite.params import is_id
from estimates.models import Precision, PurchaseOption


def numbers(text: str) -> list[int]:
    return [int(part) for part in (text or "").replace(" ", "").split(",") if part]


class PlannerForm(forms.Form):
    params = forms.FloatField(min_value=1, required=False, help_text="Model parameters, e.g. 7e9")
    tokens = forms.FloatField(min_value=1, required=False, help_text="Training tokens, e.g. 2e12")
    flops = forms.FloatField(min_value=1, required=False, help_text="Or the compute directly.")
    accelerator = forms.CharField(
        max_length=40, initial="A100", widget=forms.TextInput(attrs={"list": "accelerators"})
    )
    gpu_count = forms.IntegerField(min_value=1, initial=8, label="GPU count")
    precision = forms.ChoiceField(
        choices=[("", "bf16 (fp16 where unsupported)"), *Precision.choices], required=False
    )
    efficiency = forms.FloatField(
        min_value=0.01, max_value=0.9, required=False, help_text="Default: learned from your runs."
    )
    provider = forms.CharField(max_length=10, required=False, initial="aws")
    region = forms.CharField(
        max_length=40, required=False, widget=forms.TextInput(attrs={"list": "regions"})
    )
    instance_type = forms.CharField(
        max_length=60, required=False, widget=forms.TextInput(attrs={"list": "instance-types"})
    )
    purchase_option = forms.ChoiceField(choices=PurchaseOption.choices, initial="on_demand")
    gpu_counts = forms.CharField(
        required=False,
        initial="1, 2, 4, 8, 16, 32, 64",
        label="GPU counts",
        help_text="For trade-offs and scaling.",
    )
    deadline_hours = forms.FloatField(min_value=0.01, required=False)
    budget = forms.DecimalField(min_value=0, max_digits=14, decimal_places=2, required=False)
    hour_value = forms.DecimalField(
        min_value=0,
        max_digits=12,
        decimal_places=2,
        required=False,
        label="Value of an hour",
        help_text="Of the team's waiting, for the ROI of faster options.",
    )
    configurations = forms.CharField(
        required=False, help_text="Compare side by side, e.g. A100×8, H100×8, V100×16"
    )
    seq_len = forms.IntegerField(min_value=1, required=False, label="Sequence length")
    global_batch = forms.IntegerField(min_value=1, required=False, help_text="In sequences.")

    def clean_gpu_counts(self):
        try:
            return numbers(self.cleaned_data["gpu_counts"])
        except ValueError as exc:
            raise forms.ValidationError("Whole numbers separated by commas.") from exc

    def clean_configurations(self):
        configs = []
        for part in (self.cleaned_data["configurations"] or "").split(","):
            if not part.strip():
                continue
            name, _, count = part.replace("x", "×").partition("×")
            if not is_id(count.strip()):
                raise forms.ValidationError(f"{part.strip()!r}: write accelerator×count.")
            configs.append({"accelerator": name.strip(), "gpu_count": int(count)})
        return configs


class TrainingRunForm(forms.Form):
    """A run to record or edit; TrainingRunSerializer validates it as it does the API's."""

    name = forms.CharField(max_length=200)
    team = forms.ModelChoiceField(queryset=Team.objects.none(), required=False)
    params = forms.FloatField(min_value=1, required=False)
    tokens = forms.FloatField(min_value=1, required=False)
    flops = forms.FloatField(min_value=1, required=False)
    accelerator = forms.CharField(
        max_length=40, widget=forms.TextInput(attrs={"list": "accelerators"})
    )
    gpu_count = forms.IntegerField(min_value=1, label="GPU count")
    precision = forms.ChoiceField(choices=Precision.choices, initial="bf16")
    gpu_hours = forms.FloatField(min_value=0.001, required=False, label="GPU-hours")
    wall_hours = forms.FloatField(min_value=0.001, required=False)
    cost = forms.DecimalField(min_value=0, max_digits=14, decimal_places=4, required=False)
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, org, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = Team.objects.for_org(org)


def run_initial(run) -> dict:
    """A recorded run as the form's initial values (what an edit compares the input against):
    every field of the form, the team by id and the accelerator by name."""
    related = {"team": run.team_id, "accelerator": run.accelerator.name}
    fields = [name for name in TrainingRunForm.base_fields if name not in related]
    return {name: getattr(run, name) for name in fields} | related
