from django import forms

from costsite.notify import channels
from costsite.notify.models import Channel


class ChannelForm(forms.ModelForm):
    class Meta:
        model = Channel
        fields = ["name", "kind", "target", "enabled"]
        widgets = {"target": forms.TextInput(attrs={"size": 60})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["kind"].disabled = True

    def clean(self):
        cleaned = super().clean()
        kind, target = cleaned.get("kind"), cleaned.get("target")
        if kind and target is not None:
            try:
                cleaned["target"] = channels.clean_target(kind, target)
            except forms.ValidationError as exc:
                self.add_error("target", exc)
        return cleaned
