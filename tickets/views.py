from django.shortcuts import render

from accounts import roles
from accounts.decorators import requires
from tickets.models import ConversationStatus
from tickets.selectors import inbox_page


@requires(roles.WORK_INBOX)
def inbox(request):
    status = request.GET.get("status")
    if status not in ConversationStatus.values:
        status = None
    return render(
        request,
        "tickets/inbox.html",
        {
            "conversations": inbox_page(request.user, status=status),
            "status": status,
            "statuses": ConversationStatus.choices,
        },
    )
