"""Panels on the organization overview page, contributed by the apps built on the platform.

The platform cannot import the apps above it, so each app registers a panel here (from its
AppConfig.ready): a template and a function returning that template's context for an
organization. Panels appear in registration order.
"""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Panel:
    template: str
    context: Callable  # (organization, membership) -> dict


PANELS: list[Panel] = []


def register(template: str, context: Callable) -> None:
    if not any(panel.template == template for panel in PANELS):
        PANELS.append(Panel(template, context))


def render_panels(organization, membership) -> list[tuple[str, dict]]:
    return [(panel.template, panel.context(organization, membership)) for panel in PANELS]
