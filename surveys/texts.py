"""What the customer reads: the survey's own texts in their language, else our translated defaults."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from surveys.models import ScaleStyle, Survey, SurveyKind

LANGUAGES = ("en", "ru", "pl")

# Keyed by str, as Survey.kind reads back from its CharField (a SurveyKind is a str too).
DEFAULT_QUESTIONS: dict[str, Promise] = {
    SurveyKind.NPS: _("How likely are you to recommend us to a friend or colleague?"),
    SurveyKind.CSAT: _("How satisfied are you with the help you received?"),
    SurveyKind.CES: _("How much do you agree: it was easy to get my issue handled."),
}
DEFAULT_FOLLOW_UP = _("What is the main reason for your score?")
# The words at either end of the scale.
SCALE_ENDS: dict[str, tuple[Promise, Promise]] = {
    SurveyKind.NPS: (_("Not at all likely"), _("Extremely likely")),
    SurveyKind.CSAT: (_("Very unsatisfied"), _("Very satisfied")),
    SurveyKind.CES: (_("Strongly disagree"), _("Strongly agree")),
}
CSAT_WORDS = {
    5: (_("Very unsatisfied"), _("Unsatisfied"), pgettext_lazy("satisfaction", "Neutral"), _("Satisfied"),
        _("Very satisfied")),
    3: (_("Unsatisfied"), pgettext_lazy("satisfaction", "Neutral"), _("Satisfied")),
}  # fmt: skip
CSAT_EMOJI = {5: ("😠", "🙁", "😐", "🙂", "😍"), 3: ("🙁", "😐", "🙂")}


def pick_language(requested: str) -> str:
    code = (requested or "").lower().replace("_", "-").split("-")[0]
    return code if code in LANGUAGES else "en"


def _own(texts: dict, language: str) -> str:
    if not isinstance(texts, dict):
        return ""
    return str(texts.get(language) or texts.get("en") or "").strip()


def question_text(survey: Survey, language: str) -> str:
    with translation.override(language):
        return _own(survey.question, language) or str(DEFAULT_QUESTIONS[survey.kind])


def follow_up_text(survey: Survey, language: str) -> str:
    """The open question after the score; "" when the survey asks none ({"off": true})."""
    if isinstance(survey.followup_question, dict) and survey.followup_question.get("off"):
        return ""
    with translation.override(language):
        return _own(survey.followup_question, language) or str(DEFAULT_FOLLOW_UP)


@dataclass(frozen=True)
class Choice:
    value: int
    label: str  # what is shown on the button
    description: str  # what a screen reader reads


def choices(survey: Survey, language: str) -> list[Choice]:
    low, high = survey.scale
    with translation.override(language):
        ends = SCALE_ENDS[survey.kind]
        rows = []
        for value in range(low, high + 1):
            label = str(value)
            description = str(value)
            if survey.kind == SurveyKind.CSAT and survey.scale_style != ScaleStyle.NUMBERS:
                words = CSAT_WORDS[high]
                description = str(words[value - 1])
                if survey.scale_style == ScaleStyle.EMOJI:
                    label = CSAT_EMOJI[high][value - 1]
                elif survey.scale_style == ScaleStyle.STARS:
                    label = "★" * value
                else:
                    label = description
            elif value in (low, high):
                description = f"{value} ({ends[0] if value == low else ends[1]})"
            rows.append(Choice(value, label, description))
        return rows


def scale_ends(survey: Survey, language: str) -> tuple[str, str]:
    with translation.override(language):
        low, high = SCALE_ENDS[survey.kind]
        return str(low), str(high)
