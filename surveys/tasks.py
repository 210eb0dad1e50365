"""Thin task wrappers: sending due invitations and running scheduled triggers."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="surveys.tasks.send_due_invitations", acks_late=True)
def send_due_invitations() -> int:
    from surveys.delivery import do_send_due_invitations

    return do_send_due_invitations()


@shared_task(name="surveys.tasks.run_scheduled_triggers", acks_late=True)
def run_scheduled_triggers() -> int:
    from surveys.triggers import do_run_scheduled_triggers

    return do_run_scheduled_triggers()
