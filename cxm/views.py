from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from analytics.selectors import workspace_overview
from cxm.health import may_see_details, public_report, run_checks


@never_cache
@require_GET
def healthz(request):
    healthy, report = run_checks()
    body = report if may_see_details(request) else public_report(report)
    return JsonResponse(body, status=200 if healthy else 503)


@login_required
def home(request):
    return render(request, "home.html", {"overview": workspace_overview()})
