"""Pages: alert channels, their delivery log, test sends."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from costsite.notify import channels, delivery
from costsite.notify.forms import ChannelForm
from costsite.notify.models import Channel, ChannelKind, Delivery, DeliveryStatus
from costsite.orgs.access import org_for_user
from costsite.orgs.roles import MANAGERS
from costsite.paging import paged


@login_required
def channel_list(request, org_slug):
    org, me = org_for_user(request, org_slug)
    form, new_secret = None, None
    if me.role in MANAGERS:
        form = ChannelForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            channel = channels.create_channel(
                org, data["name"], data["kind"], data["target"], data["enabled"]
            )
            if channel.kind != ChannelKind.WEBHOOK:
                messages.success(request, f"Created {channel.name}.")
                return redirect("notify:detail", org_slug=org.slug, channel_id=channel.pk)
            new_secret = (channel, channel.secret)
            form = ChannelForm()
    elif request.method == "POST":
        raise PermissionDenied("Only owners and admins manage alert channels.")
    return render(
        request,
        "notify/channels.html",
        {
            "org": org,
            "me": me,
            "channels": Channel.objects.for_org(org),
            "form": form,
            "new_secret": new_secret,
        },
    )


@login_required
def channel_detail(request, org_slug, channel_id):
    org, me = org_for_user(request, org_slug)
    channel = get_object_or_404(Channel.objects.for_org(org), pk=channel_id)
    form = None
    if me.role in MANAGERS:
        form = ChannelForm(request.POST or None, instance=channel)
        if request.method == "POST" and form.is_valid():
            form.save()
            messages.success(request, "Channel saved.")
            return redirect("notify:detail", org_slug=org.slug, channel_id=channel.pk)
    elif request.method == "POST":
        raise PermissionDenied("Only owners and admins manage alert channels.")
    return render_detail(request, org, me, channel, form)


def render_detail(request, org, me, channel, form, new_secret=None):
    page, _ = paged(request, Delivery.objects.for_org(org).filter(channel=channel), per_page=25)
    in_flight = {DeliveryStatus.PENDING, DeliveryStatus.SENDING}
    context = {
        "org": org,
        "me": me,
        "channel": channel,
        "form": form,
        "deliveries": page,
        # The page re-reads the log until sends in flight finish.
        "in_flight": any(d.status in in_flight for d in page),
        "new_secret": new_secret,
    }
    return render(request, "notify/channel.html", context)


def _managed_channel(request, org_slug, channel_id):
    org, me = org_for_user(request, org_slug, MANAGERS)
    return org, me, get_object_or_404(Channel.objects.for_org(org), pk=channel_id)


@login_required
@require_POST
def send_test(request, org_slug, channel_id):
    org, _, channel = _managed_channel(request, org_slug, channel_id)
    delivery.send_test(channel)
    messages.success(request, "Test queued; its result appears in the delivery log below.")
    return redirect("notify:detail", org_slug=org.slug, channel_id=channel.pk)


@login_required
@require_POST
def rotate_secret(request, org_slug, channel_id):
    org, me, channel = _managed_channel(request, org_slug, channel_id)
    if channel.kind != ChannelKind.WEBHOOK:
        raise PermissionDenied("Only webhook channels have a signing secret.")
    secret = channels.rotate_secret(channel)
    return render_detail(request, org, me, channel, ChannelForm(instance=channel), secret)


@login_required
@require_POST
def delete_channel(request, org_slug, channel_id):
    org, _, channel = _managed_channel(request, org_slug, channel_id)
    channels.delete_channel(channel)
    messages.success(request, f"Deleted {channel.name}.")
    return redirect("notify:list", org_slug=org.slug)
