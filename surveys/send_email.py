"""The survey invitation by email: the first question in the body, each score a one-click link."""

from __future__ import annotations

from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from channels_app.kinds import ChannelKind
from channels_app.models import Channel
from channels_app.outbound import do_queue_outbound
from surveys import texts
from surveys.delivery import DeliveryError, reach
from surveys.invitation_models import Invitation
from surveys.links import absolute


def email_content(invitation: Invitation, channel: Channel) -> dict:
    """Subject, text, HTML and list headers of the invitation, in the customer's language."""
    survey = invitation.survey
    language = texts.pick_language(invitation.locale)
    token = invitation.token
    sender = channel.config.get("from_name") or channel.name
    opt_out_url = absolute(reverse("survey_public:opt_out", kwargs={"token": token}))
    choices = [
        {
            "value": choice.value,
            "label": choice.label,
            "description": choice.description,
            "url": absolute(reverse("survey_public:one_click", args=[token, choice.value])),
        }
        for choice in texts.choices(survey, language)
    ]
    low, high = texts.scale_ends(survey, language)
    context = {
        "language": language,
        "sender": sender,
        "question": texts.question_text(survey, language),
        "choices": choices,
        "cell_width": max(1, 100 // len(choices)),
        "low_label": low,
        "high_label": high,
        "answer_url": absolute(reverse("survey_public:answer", kwargs={"token": token})),
        "opt_out_url": opt_out_url,
    }
    with translation.override(language):
        subject = _("%(sender)s: a quick question about your experience") % {"sender": sender}
        text = render_to_string("surveys/email/invitation.txt", context)
        html = render_to_string("surveys/email/invitation.html", context)
    return {
        "subject": subject,
        "text": text,
        "html": html,
        "headers": {
            "List-Unsubscribe": f"<{opt_out_url}>",
            # RFC 8058: the provider POSTs "List-Unsubscribe=One-Click" to the URL above.
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
        "survey_invitation": invitation.pk,
    }


def send_email_invitation(invitation: Invitation) -> None:
    if invitation.customer_id is None:
        raise DeliveryError("An email survey needs a customer.")
    found = reach(invitation, ChannelKind.EMAIL)
    channel, identity = found.channel, found.identity
    do_queue_outbound(
        channel=channel, recipient=identity.value, payload=email_content(invitation, channel), message=None
    )
    invitation.channel = channel
    invitation.recipient = identity.value
