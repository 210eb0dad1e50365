"""Background work of CSV imports: each row goes through do_identify, so a customer already known by
any of the row's identities is updated rather than created again, under the usual resolution rules."""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any

from celery import shared_task
from django.db import DatabaseError
from django.utils import timezone

from profiles.attributes import AttributeValueError
from profiles.audit import record
from profiles.imports import ImportFileError, parse_row, read_table
from profiles.models import AttributeDefinition, AuditAction, CustomerImport, ImportStatus
from profiles.services import do_identify

logger = logging.getLogger(__name__)

__all__ = ["import_customers"]

# The report keeps this many problems; a file that is wrong throughout needs fixing, not a longer list.
MAX_REPORTED = 10_000
CHECKPOINT_SECONDS = 1.0
# A large file takes longer than the broker's visibility timeout and would hog a bulk worker: each
# task works this long, saves where it got to and queues the rest as a new task.
SLICE_SECONDS = 60.0
LOCK_SECONDS = 120
_NOT_LINKED = ("blocked", "limit", "suggested", "ignored", "invalid")


@shared_task(name="profiles.import_tasks.import_customers")
def import_customers(import_id: int) -> dict[str, int]:
    return run_import(import_id)


class _Lock:
    """Held while an import runs. Redis redelivers a task that outlives its visibility timeout; the
    second delivery must not process the same rows alongside the first."""

    def __init__(self, import_id: int):
        from core.redis import get_redis

        self.client, self.key, self.token = get_redis(), f"cxm:import:{import_id}", uuid.uuid4().hex

    def acquire(self) -> bool:
        return self.client is None or bool(self.client.set(self.key, self.token, nx=True, ex=LOCK_SECONDS))

    def refresh(self) -> None:
        if self.client is not None:
            self.client.set(self.key, self.token, ex=LOCK_SECONDS)

    def release(self) -> None:
        if self.client is not None and self.client.get(self.key) == self.token.encode():
            self.client.delete(self.key)


def run_import(import_id: int) -> dict[str, int]:
    job = CustomerImport.objects.filter(pk=import_id).first()
    if job is None or job.status in (ImportStatus.DONE, ImportStatus.FAILED):
        return {}
    lock = _Lock(import_id)
    if not lock.acquire():
        return {}
    try:
        result = _run(job, lock)
    finally:
        lock.release()
    if result.get("more"):  # queued only once the lock is free for the next slice to take
        enqueue_import(import_id)
    return result


def enqueue_import(import_id: int) -> None:
    """Queue the import (or the rest of it) on the bulk queue, where long batch work belongs."""
    import_customers.apply_async(args=[import_id], queue="bulk")


def _run(job: CustomerImport, lock: _Lock) -> dict[str, int]:
    # A delivery after a crash carries on after the last saved checkpoint instead of starting over.
    resume = job.processed_rows if job.status == ImportStatus.RUNNING else 0
    job.status = ImportStatus.RUNNING
    job.save(update_fields=["status"])
    mapping = job.mapping
    try:
        with job.file.open("rb") as handle:
            raw = handle.read()
        table = read_table(raw, encoding=mapping["encoding"], delimiter=mapping["delimiter"])
    except (ImportFileError, OSError, ValueError, KeyError):  # ValueError: no file stored
        logger.warning("import %s: file unreadable", job.pk, exc_info=True)
        job.errors = [*job.errors, {"row": None, "column": "", "code": "unreadable"}]
        return _finish(job, ImportStatus.FAILED)
    definitions = {d.key: d for d in AttributeDefinition.objects.all()}
    columns, region = mapping.get("columns", {}), mapping.get("region", "")
    started = last_save = time.monotonic()
    saved_errors = len(job.errors)
    try:
        for position, (number, cells) in enumerate(table.rows(), 1):
            if position <= resume:
                continue
            _import_row(job, number, parse_row(cells, columns, table.header, definitions, region))
            job.processed_rows = position
            if time.monotonic() - started >= SLICE_SECONDS and position < job.total_rows:
                _checkpoint(job, with_errors=True)
                return {"processed": position, "more": 1}
            if time.monotonic() - last_save >= CHECKPOINT_SECONDS:
                _checkpoint(job, with_errors=len(job.errors) != saved_errors)
                saved_errors, last_save = len(job.errors), time.monotonic()
                lock.refresh()
    except ImportFileError:  # checked in full at upload, so only a file changed on disk since
        job.errors = [*job.errors, {"row": None, "column": "", "code": "unreadable"}]
        return _finish(job, ImportStatus.FAILED)
    return _finish(job, ImportStatus.DONE)


def _import_row(job: CustomerImport, number: int, parsed) -> None:
    problems = list(parsed.problems)
    if parsed.identities:
        try:
            result = do_identify(
                identities=parsed.identities,
                attributes=parsed.attributes,
                source="import",
                actor=job.created_by,
            )
        except (AttributeValueError, ValueError, DatabaseError):
            logger.warning("import %s: row %s failed", job.pk, number, exc_info=True)
            problems.append(("", "failed"))
        else:
            if result.created:
                job.created_rows += 1
            else:
                job.updated_rows += 1
            columns = parsed.columns
            problems += [
                (columns.get((o.kind, o.value), ""), o.status)
                for o in result.outcomes
                if o.status in _NOT_LINKED
            ]
    for column, code in problems:
        _report(job, {"row": number, "column": column, "code": code})


def _report(job: CustomerImport, problem: dict[str, Any]) -> None:
    if len(job.errors) < MAX_REPORTED:
        job.errors.append(problem)
    elif len(job.errors) == MAX_REPORTED:
        job.errors.append({"row": None, "column": "", "code": "more"})


def _checkpoint(job: CustomerImport, *, with_errors: bool) -> None:
    fields = ["processed_rows", "created_rows", "updated_rows", *(["errors"] if with_errors else [])]
    CustomerImport.objects.filter(pk=job.pk).update(**{name: getattr(job, name) for name in fields})


def _finish(job: CustomerImport, status: str) -> dict[str, int]:
    job.status = status
    # The uploaded file holds other people's personal data; once read, the counts and report suffice.
    if job.file:
        job.file.delete(save=False)
    job.mapping = {**job.mapping, "finished_at": timezone.now().isoformat()}
    job.save()
    record(
        actor=job.created_by,
        action=AuditAction.IMPORT,
        customer_id=None,
        import_id=job.pk,
        rows=job.processed_rows,
        created=job.created_rows,
        updated=job.updated_rows,
        problems=len(job.errors),
    )
    return {"processed": job.processed_rows, "created": job.created_rows, "updated": job.updated_rows}
