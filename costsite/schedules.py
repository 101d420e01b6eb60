"""Every recurring django-q2 schedule, in one place. `manage.py setup_schedules` applies them.

Each entry: name -> (task path, schedule type, minutes for MINUTES schedules).
"""

from django_q.models import Schedule

SCHEDULES = {
    "carbon: evaluate carbon budgets": ("carbon.tasks.evaluate_all", Schedule.MINUTES, 15),
    "budgets: pull cloud costs": ("budgets.tasks.pull_cloud_costs", Schedule.DAILY, None),
    "budgets: evaluate all budgets": (
        "budgets.tasks.evaluate_all_budgets",
        Schedule.MINUTES,
        15,
    ),
    "budgets: remind open alerts": ("budgets.tasks.remind_open_alerts", Schedule.HOURLY, None),
    "estimates: refresh AWS prices": (
        "estimates.tasks.refresh_aws_prices",
        Schedule.DAILY,
        None,
    ),
    "spot: poll fleets": ("spot.tasks.poll_fleets", Schedule.MINUTES, 1),
    "budgets: resume stalled imports": ("budgets.importer.resume_stalled", Schedule.MINUTES, 5),
    "notify: retry due deliveries": (
        "costsite.notify.tasks.retry_due_deliveries",
        Schedule.MINUTES,
        1,
    ),
}
