"""Privacy pages: export a person's data, erase it, read the audit log, set retention periods."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from accounts import roles
from accounts.decorators import requires
from profiles.audit import audit_page
from profiles.models import AuditAction, Customer
from profiles.privacy import ErasureError, do_erase_customer, do_export_customer
from profiles.retention import DataKind, do_save_policies, policies

MAX_RETENTION_DAYS = 36_500


def confirmation_word(customer: Customer) -> str:
    # Names the very profile, so a confirmation typed for one customer cannot erase another.
    return f"ERASE-{customer.pk}"


class EraseForm(forms.Form):
    confirmation = forms.CharField(label=gettext_lazy("Type the word shown above"), max_length=40)
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        required=False,
        max_length=300,
        help_text=gettext_lazy("For the audit log, e.g. the request's reference. No names or addresses."),
    )

    def __init__(self, *args, word: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.word = word

    def clean_confirmation(self) -> str:
        value = self.cleaned_data["confirmation"].strip()
        if value != self.word:
            raise forms.ValidationError(_("Type %(word)s exactly to confirm.") % {"word": self.word})
        return value


class AuditFilterForm(forms.Form):
    action = forms.ChoiceField(
        label=gettext_lazy("Action"),
        required=False,
        choices=[("", gettext_lazy("All actions")), *AuditAction.choices],
    )
    customer = forms.IntegerField(label=gettext_lazy("Customer id"), required=False, min_value=1)


class RetentionForm(forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for kind, label in DataKind.choices:
            self.fields[kind] = forms.IntegerField(
                label=label,
                required=False,
                min_value=1,
                max_value=MAX_RETENTION_DAYS,
                help_text=gettext_lazy("Days. Leave blank to keep forever."),
                widget=forms.NumberInput(attrs={"placeholder": gettext_lazy("Keep forever")}),
            )


@requires(roles.EXPORT_DATA)
@require_POST
def customer_export(request, pk: int):
    customer = get_object_or_404(Customer, pk=pk)
    archive = do_export_customer(customer=customer, actor=request.user)
    response = HttpResponse(archive, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="customer-{customer.pk}.zip"'
    response["Cache-Control"] = "no-store"
    return response


@requires(roles.ERASE_CUSTOMERS)
@require_http_methods(["GET", "POST"])
def customer_erase(request, pk: int):
    customer = get_object_or_404(Customer, pk=pk)
    word = confirmation_word(customer)
    form = EraseForm(request.POST or None, word=word)
    if request.method == "POST" and form.is_valid():
        try:
            do_erase_customer(customer=customer, actor=request.user, reason=form.cleaned_data["reason"])
        except ErasureError:
            messages.error(
                request, _("This profile was merged into another one; erase that profile instead.")
            )
            return redirect("customer_list")
        messages.success(
            request, _("The personal data of customer #%(id)s was erased.") % {"id": customer.pk}
        )
        return redirect("customer_list")
    return render(
        request,
        "profiles/privacy/erase_confirm.html",
        {"customer": customer, "form": form, "word": word},
        status=400 if request.method == "POST" else 200,
    )


@requires(roles.ERASE_CUSTOMERS)
@require_http_methods(["GET"])
def audit_log(request):
    form = AuditFilterForm(request.GET or None)
    action, customer_id = "", None
    if form.is_valid():
        action = form.cleaned_data["action"] or ""
        customer_id = form.cleaned_data["customer"]
    page = audit_page(action=action, customer_id=customer_id, page=request.GET.get("page", 1))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "profiles/privacy/audit_log.html",
        {"form": form, "page": page, "entries": page.object_list, "query": query.urlencode()},
    )


@requires(roles.ERASE_CUSTOMERS)
@require_http_methods(["GET", "POST"])
def retention_settings(request):
    if request.method == "POST":
        form = RetentionForm(request.POST)
        if form.is_valid():
            do_save_policies({kind: form.cleaned_data[kind] for kind in DataKind.values}, actor=request.user)
            messages.success(request, _("Retention periods saved."))
            return redirect("retention_settings")
    else:
        form = RetentionForm(initial=policies())
    return render(request, "profiles/privacy/retention.html", {"form": form})
