"""django-q2 tasks of the estimates app."""

from estimates import refresh


def refresh_aws_prices() -> str:
    """Scheduled daily: refresh AWS prices when credentials are configured, else do nothing."""
    if not refresh.aws_configured():
        return "skipped: no AWS credentials configured"
    report, errors = refresh.refresh_aws()
    failed = "; ".join(f"{region}: {error}" for region, error in errors.items())
    return report.summary() + (f"; failed: {failed}" if failed else "")
