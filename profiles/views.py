from django.shortcuts import render

from accounts import roles
from accounts.decorators import requires
from profiles.selectors import customer_page


@requires(roles.VIEW_CUSTOMERS)
def customer_list(request):
    query = request.GET.get("q", "").strip()[:100]
    return render(
        request, "profiles/customer_list.html", {"customers": customer_page(query=query), "q": query}
    )
