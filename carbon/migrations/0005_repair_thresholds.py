"""Carbon budgets saved before thresholds were validated (0004) may hold thresholds that no
evaluation can use (duplicates, fractions, text, out of range), and such a budget never alerted.
Keep what is usable: whole percentages from 1 to 1000, each once, the lowest 10, sorted."""

from django.db import migrations


def usable(thresholds) -> list[int]:
    if not isinstance(thresholds, list):
        return []
    whole = set()
    for value in thresholds:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if type(value) is int and 1 <= value <= 1000:
            whole.add(value)
    return sorted(whole)[:10]


def repair(apps, schema_editor):
    CarbonBudget = apps.get_model("carbon", "CarbonBudget")
    for pk, thresholds in CarbonBudget.objects.values_list("pk", "thresholds").iterator():
        fixed = usable(thresholds)
        if fixed != thresholds:
            CarbonBudget.objects.filter(pk=pk).update(thresholds=fixed)


class Migration(migrations.Migration):
    dependencies = [("carbon", "0004_carbonbudget_thresholds_validated")]

    operations = [migrations.RunPython(repair, migrations.RunPython.noop)]
