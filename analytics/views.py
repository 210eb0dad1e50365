from django.shortcuts import render

from accounts import roles
from accounts.decorators import requires
from analytics.selectors import score_summaries, volume_by_channel


@requires(roles.VIEW_DASHBOARDS)
def dashboard(request):
    return render(
        request, "analytics/dashboard.html", {"scores": score_summaries(), "channels": volume_by_channel()}
    )
