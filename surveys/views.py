from django.shortcuts import render

from accounts import roles
from accounts.decorators import requires
from surveys.selectors import surveys_with_stats


@requires(roles.VIEW_SURVEYS)
def survey_list(request):
    return render(request, "surveys/survey_list.html", {"surveys": surveys_with_stats()})
