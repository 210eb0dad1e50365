"""Import and export pages: upload a CSV, map its columns, follow the import, download the report;
export customers (all, or a segment's) as CSV."""

from __future__ import annotations

import uuid

import phonenumbers
from django import forms
from django.contrib import messages
from django.core.files.base import ContentFile
from django.core.handlers.asgi import ASGIRequest
from django.db import transaction
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from accounts import roles
from accounts.decorators import requires
from profiles import imports
from profiles.audit import record
from profiles.exports import as_async, csv_lines, customer_table, in_chunks
from profiles.import_tasks import enqueue_import
from profiles.models import AttributeDefinition, AuditAction, CustomerImport, ImportStatus, Segment
from profiles.segments import SegmentError, active_customers, customers_in_segment

RECENT_IMPORTS = 20
_REGION_BY_LANGUAGE = {"pl": "PL", "ru": "RU"}


class UploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("CSV file"),
        help_text=gettext_lazy("Up to 20 MB and 200,000 rows. The first row must name the columns."),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,.tsv,text/csv"}),
    )
    encoding = forms.ChoiceField(
        label=gettext_lazy("Encoding"),
        required=False,
        choices=[("", gettext_lazy("Detect automatically")), *imports.ENCODINGS.items()],
    )
    delimiter = forms.ChoiceField(
        label=gettext_lazy("Separator"),
        required=False,
        choices=[("", gettext_lazy("Detect automatically")), *imports.DELIMITERS.items()],
    )

    def clean(self):
        data = super().clean() or {}
        upload = data.get("file")
        if upload is None:
            return data
        if upload.size > imports.MAX_BYTES:
            raise forms.ValidationError(_("The file is larger than 20 MB. Split it into smaller files."))
        raw = upload.read()
        try:
            table = imports.read_table(
                raw, encoding=data.get("encoding", ""), delimiter=data.get("delimiter", "")
            )
            data["total"] = imports.count_rows(table)
        except imports.ImportFileError as exc:
            raise forms.ValidationError(str(exc)) from None
        if not data["total"]:
            raise forms.ValidationError(_("The file has a header row but no data rows."))
        data["raw"], data["table"] = raw, table
        return data


class MappingForm(forms.Form):
    region = forms.ChoiceField(
        label=gettext_lazy("Country of phone numbers written without a country code"),
        required=False,
        choices=[("", gettext_lazy("None: numbers include +country code"))]
        + [(code, code) for code in sorted(phonenumbers.SUPPORTED_REGIONS)],
    )

    def __init__(self, *args, header: list[str], definitions: list[AttributeDefinition], **kwargs):
        super().__init__(*args, **kwargs)
        self.header = header
        self.labels = dict(imports.target_choices(definitions))
        for index, name in enumerate(header):
            self.fields[f"col_{index}"] = forms.ChoiceField(
                label=name, required=False, choices=imports.target_choices(definitions)
            )

    def columns(self) -> dict[str, str]:
        return {
            str(i): self.cleaned_data[f"col_{i}"]
            for i in range(len(self.header))
            if self.cleaned_data.get(f"col_{i}")
        }

    def clean(self):
        data = super().clean() or {}
        if self.errors:
            return data
        targets = list(self.columns().values())
        for target in sorted({t for t in targets if targets.count(t) > 1}):
            self.add_error(
                None, _("Only one column can be imported as %(field)s.") % {"field": self.labels[target]}
            )
        if not set(targets) & set(imports.IDENTITY_TARGETS):
            self.add_error(
                None, _("Choose a column with email, phone or external id: customers are matched by them.")
            )
        return data

    def column_fields(self):
        return [self[f"col_{i}"] for i in range(len(self.header))]


@requires(roles.IMPORT_CUSTOMERS)
@require_http_methods(["GET", "POST"])
def import_list(request):
    # Refused before the body is read, so an oversized upload costs neither memory nor a temp file.
    if request.method == "POST" and int(request.META.get("CONTENT_LENGTH") or 0) > imports.MAX_BYTES + 65536:
        messages.error(request, _("The file is larger than 20 MB. Split it into smaller files."))
        return redirect("import_list")
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        table = form.cleaned_data["table"]
        job = CustomerImport(
            mapping={
                "encoding": table.encoding,
                "delimiter": table.delimiter,
                "header": table.header,
                "filename": form.cleaned_data["file"].name[:200],
            },
            total_rows=form.cleaned_data["total"],
            created_by=request.user,
        )
        # A generated name: the person's own file name may well name a client.
        job.file.save(f"{uuid.uuid4().hex}.csv", ContentFile(form.cleaned_data["raw"]), save=False)
        job.save()
        return redirect("import_map", pk=job.pk)
    recent = CustomerImport.objects.select_related("created_by")[:RECENT_IMPORTS]
    status = 400 if request.method == "POST" else 200
    return render(request, "profiles/imports/list.html", {"form": form, "imports": recent}, status=status)


@requires(roles.IMPORT_CUSTOMERS)
@require_http_methods(["GET", "POST"])
def import_map(request, pk: int):
    job = get_object_or_404(CustomerImport, pk=pk)
    if "queued_at" in job.mapping:
        return redirect("import_detail", pk=job.pk)
    header, definitions = job.mapping["header"], list(AttributeDefinition.objects.all())
    initial = {f"col_{i}": target for i, target in imports.guess_mapping(header, definitions).items()}
    initial["region"] = _REGION_BY_LANGUAGE.get((get_language() or "")[:2], "")
    form = MappingForm(request.POST or None, initial=initial, header=header, definitions=definitions)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            job = CustomerImport.objects.select_for_update().get(pk=pk)
            if "queued_at" not in job.mapping:  # a double submit queues the import once
                job.mapping = {
                    **job.mapping,
                    "columns": form.columns(),
                    "region": form.cleaned_data["region"],
                    "queued_at": timezone.now().isoformat(),
                }
                job.save(update_fields=["mapping"])
                transaction.on_commit(lambda: enqueue_import(job.pk))
        return redirect("import_detail", pk=job.pk)
    try:
        with job.file.open("rb") as handle:
            table = imports.read_table(
                handle.read(), encoding=job.mapping["encoding"], delimiter=job.mapping["delimiter"]
            )
        sample = imports.preview(table)
    except (OSError, ValueError):  # ImportFileError, or a file already gone
        sample = []
    columns = [(field, [row[i] for row in sample]) for i, field in enumerate(form.column_fields())]
    context = {"job": job, "form": form, "columns": columns}
    return render(
        request, "profiles/imports/map.html", context, status=400 if request.method == "POST" else 200
    )


@requires(roles.IMPORT_CUSTOMERS)
@require_GET
def import_detail(request, pk: int):
    job = get_object_or_404(CustomerImport, pk=pk)
    return render(request, "profiles/imports/detail.html", {"job": job, **_progress(job)})


@requires(roles.IMPORT_CUSTOMERS)
@require_GET
def import_status(request, pk: int):
    job = get_object_or_404(CustomerImport, pk=pk)
    return render(request, "profiles/imports/_status.html", {"job": job, **_progress(job)})


def _progress(job: CustomerImport) -> dict:
    failed_rows = len({e["row"] for e in job.errors if e.get("row")})
    percent = (
        100 if job.status == ImportStatus.DONE else int(100 * job.processed_rows / max(job.total_rows, 1))
    )
    finished = job.status in (ImportStatus.DONE, ImportStatus.FAILED)
    return {"percent": percent, "problem_rows": failed_rows, "finished": finished}


@requires(roles.IMPORT_CUSTOMERS)
@require_GET
def import_report(request, pk: int):
    job = get_object_or_404(CustomerImport, pk=pk)
    reasons = {code: str(text) for code, text in imports.REASONS.items()}
    rows = ([e.get("row") or "", e.get("column", ""), reasons.get(e["code"], e["code"])] for e in job.errors)
    header = [_("Row"), _("Column"), _("Problem")]
    return _csv_response(request, csv_lines(header, rows), f"import-{job.pk}-report.csv")


@requires(roles.EXPORT_DATA)
@require_GET
def customer_export_csv(request):
    customers, segment, segment_id = active_customers(), None, request.GET.get("segment", "")
    if segment_id:
        segment = get_object_or_404(Segment, pk=int(segment_id) if segment_id.isdigit() else 0)
        try:
            customers = customers_in_segment(segment)
        except SegmentError as exc:
            messages.error(request, str(exc))
            return redirect("customer_list")
    record(
        actor=request.user,
        action=AuditAction.EXPORT,
        customer_id=None,
        scope="segment" if segment else "all",
        segment_id=segment.pk if segment else None,
    )
    header, rows = customer_table(customers)
    name = f"segment-{segment.pk}" if segment else "customers"
    return _csv_response(request, csv_lines(header, rows), f"{name}-{timezone.localdate():%Y%m%d}.csv")


def _csv_response(request, lines, filename: str) -> StreamingHttpResponse:
    chunks = in_chunks(lines)
    content = as_async(chunks) if isinstance(request, ASGIRequest) else chunks
    response = StreamingHttpResponse(content, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response
