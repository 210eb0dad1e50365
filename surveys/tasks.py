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


@shared_task(name="surveys.tasks.open_follow_ups", acks_late=True)
def open_follow_ups(response_ids: list[int]) -> int:
    """Announce answers the fast endpoint wrote; the closed loop opens their follow-ups."""
    from surveys.answer_events import announce_responses

    return announce_responses(response_ids)


@shared_task(name="surveys.tasks.announce_answers", acks_late=True)
def announce_answers(response_ids: list[int]) -> int:
    """Announce answers the fast endpoint wrote that need no follow-up."""
    from surveys.answer_events import announce_responses

    return announce_responses(response_ids)


@shared_task(name="surveys.tasks.sweep_follow_ups", acks_late=True)
def sweep_follow_ups() -> int:
    from surveys.closed_loop import do_open_missing_follow_ups

    return do_open_missing_follow_ups()
