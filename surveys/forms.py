"""The survey editor: the survey itself, its extra questions and its triggers."""

from __future__ import annotations

import re
from typing import Any, cast

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import Team, User
from channels_app.models import Channel
from profiles.models import Segment
from surveys.invitation_models import Medium, Trigger, TriggerKind, medium_choices
from surveys.models import ScaleStyle, Survey, SurveyKind
from surveys.texts import LANGUAGES

LANGUAGE_NAMES = {"en": _("English"), "ru": _("Russian"), "pl": _("Polish")}
# Trigger kinds a manager sets up here; API, widget and link invitations need no rule.
EDITABLE_TRIGGER_KINDS = (TriggerKind.RESOLVED, TriggerKind.EVENT, TriggerKind.SCHEDULE)
QUESTION_ID = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
MAX_CHOICES = 12
DATETIME_WIDGET = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


def _text_field(label: str, *, long: bool = False) -> forms.CharField:
    widget = forms.Textarea(attrs={"rows": 2}) if long else forms.TextInput()
    return forms.CharField(label=label, required=False, max_length=500, widget=widget)


class SurveyForm(forms.ModelForm):
    class Meta:
        model = Survey
        fields = [
            "name",
            "kind",
            "scale_max",
            "scale_style",
            "is_active",
            "starts_at",
            "ends_at",
            "owner",
            "recontact_days",
            "sampling_percent",
            "expiry_days",
            "detractor_threshold",
            "followup_team",
        ]
        widgets = {"starts_at": DATETIME_WIDGET, "ends_at": DATETIME_WIDGET}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for code in LANGUAGES:
            name = LANGUAGE_NAMES[code]
            self.fields[f"question_{code}"] = _text_field(_("Question (%(language)s)") % {"language": name})
            self.fields[f"followup_{code}"] = _text_field(
                _("Follow-up question (%(language)s)") % {"language": name}, long=True
            )
            self.initial.setdefault(f"question_{code}", (self.instance.question or {}).get(code, ""))
            self.initial.setdefault(f"followup_{code}", (self.instance.followup_question or {}).get(code, ""))
        self.fields["scale_max"] = forms.TypedChoiceField(
            label=_("CSAT scale"),
            choices=[("", _("1 to 5")), ("3", _("1 to 3"))],
            coerce=int,
            empty_value=None,
            required=False,
        )
        if self.instance.scale_max == 5:
            self.initial["scale_max"] = ""
        # Managers own surveys; listing every agent would only make the choice harder.
        owner, team = self.fields["owner"], self.fields["followup_team"]
        assert isinstance(owner, forms.ModelChoiceField) and isinstance(team, forms.ModelChoiceField)
        owner.queryset = User.objects.filter(is_active=True).order_by("first_name", "username")
        team.queryset = Team.objects.order_by("name")
        for field_name in ("starts_at", "ends_at"):
            moment = self.fields[field_name]
            assert isinstance(moment, forms.DateTimeField)
            moment.input_formats = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"]
        self.fields["sampling_percent"].widget.attrs.update(min=1, max=100)

    def clean_sampling_percent(self) -> int:
        value = self.cleaned_data["sampling_percent"]
        if not 1 <= value <= 100:
            raise forms.ValidationError(_("Between 1 and 100."))
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        kind = data.get("kind")
        if kind != SurveyKind.CSAT:
            data["scale_max"] = None
            if data.get("scale_style") not in (None, ScaleStyle.NUMBERS):
                self.add_error("scale_style", _("Stars, emoji and words are for CSAT surveys."))
        starts, ends = data.get("starts_at"), data.get("ends_at")
        if starts and ends and ends <= starts:
            self.add_error("ends_at", _("The end must come after the start."))
        threshold = data.get("detractor_threshold")
        if kind and threshold is not None:
            probe = Survey(kind=kind, scale_max=data.get("scale_max"))
            low, high = probe.scale
            if not low <= threshold < high:
                self.add_error(
                    "detractor_threshold",
                    _("Between %(low)s and %(high)s for this scale.") % {"low": low, "high": high - 1},
                )
        if not data.get("question_en") and (data.get("question_ru") or data.get("question_pl")):
            # English is the fallback for every other language: a survey without it asks some people nothing.
            self.add_error("question_en", _("Write the English question too: it is the fallback."))
        return data

    def save(self, commit: bool = True) -> Survey:
        survey = super().save(commit=False)
        survey.question = _by_language(self.cleaned_data, "question")
        survey.followup_question = _by_language(self.cleaned_data, "followup")
        if commit:
            survey.save()
        return survey

    def language_rows(self) -> list[dict[str, Any]]:
        return [
            {"code": code, "name": LANGUAGE_NAMES[code], "question": self[f"question_{code}"],
             "followup": self[f"followup_{code}"]}
            for code in LANGUAGES
        ]  # fmt: skip


def _by_language(data: dict[str, Any], prefix: str) -> dict[str, str]:
    return {
        code: data[f"{prefix}_{code}"].strip()
        for code in LANGUAGES
        if data.get(f"{prefix}_{code}", "").strip()
    }


class ExtraQuestionForm(forms.Form):
    qid = forms.CharField(
        label=_("Question id"),
        max_length=40,
        required=False,
        help_text=_("Lowercase letters, digits and _, e.g. speed. Answers are stored under it."),
    )
    choices = forms.CharField(
        label=_("Choices"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "One per line, languages separated by |: Fast | Быстро | Szybko. Empty: a free-text answer."
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for code in LANGUAGES:
            self.fields[f"text_{code}"] = _text_field(
                _("Text (%(language)s)") % {"language": LANGUAGE_NAMES[code]}
            )

    def clean_qid(self) -> str:
        value = self.cleaned_data["qid"].strip()
        if value and not QUESTION_ID.match(value):
            raise forms.ValidationError(_("Use lowercase letters, digits and _, starting with a letter."))
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        texts = {code: data.get(f"text_{code}", "").strip() for code in LANGUAGES}
        has_content = any(texts.values()) or data.get("choices", "").strip()
        if has_content and not data.get("qid"):
            self.add_error("qid", _("Give the question an id."))
        if has_content and not texts["en"]:
            self.add_error("text_en", _("Write the English text too: it is the fallback."))
        lines = [line for line in data.get("choices", "").splitlines() if line.strip()]
        if len(lines) > MAX_CHOICES:
            self.add_error("choices", _("At most %(count)s choices.") % {"count": MAX_CHOICES})
        return data

    def as_question(self) -> dict[str, Any] | None:
        data = self.cleaned_data
        if not data.get("qid") or data.get("DELETE"):
            return None
        choices = []
        for line in data.get("choices", "").splitlines():
            parts = [part.strip() for part in line.split("|")]
            if not parts[0]:
                continue
            choices.append({code: text for code, text in zip(LANGUAGES, parts, strict=False) if text})
        question: dict[str, Any] = {
            "id": data["qid"],
            "text": {
                code: data[f"text_{code}"].strip()
                for code in LANGUAGES
                if data.get(f"text_{code}", "").strip()
            },
        }
        if choices:
            question["choices"] = choices
        return question

    @staticmethod
    def initial_for(question: dict[str, Any]) -> dict[str, Any]:
        texts = question.get("text") or {}
        initial = {"qid": question.get("id", "")}
        initial |= {f"text_{code}": texts.get(code, "") for code in LANGUAGES}
        initial["choices"] = "\n".join(
            " | ".join(choice.get(code, "") for code in LANGUAGES).rstrip(" |")
            for choice in question.get("choices") or []
        )
        return initial


class BaseExtraQuestionFormSet(forms.BaseFormSet):
    def clean(self) -> None:
        if any(self.errors):
            return
        seen: set[str] = set()
        for form in self.forms:
            qid = form.cleaned_data.get("qid")
            if not qid or form.cleaned_data.get("DELETE"):
                continue
            if qid in seen:
                form.add_error("qid", _("Another question already uses this id."))
            seen.add(qid)

    def questions(self) -> list[dict[str, Any]]:
        return [question for form in self.forms if (question := form.as_question()) is not None]


# The cast: formset_factory returns a subclass of the formset it is given; the stubs say only BaseFormSet.
ExtraQuestionFormSet = cast(
    type[BaseExtraQuestionFormSet],
    forms.formset_factory(
        ExtraQuestionForm,
        formset=BaseExtraQuestionFormSet,
        extra=1,
        can_delete=True,
        max_num=10,
        validate_max=True,
    ),
)


class TriggerForm(forms.ModelForm):
    class Meta:
        model = Trigger
        fields = [
            "kind",
            "is_active",
            "delay_minutes",
            "event_name",
            "channels",
            "segment",
            "every_days",
            "medium",
        ]
        widgets = {"channels": forms.CheckboxSelectMultiple}

    def __init__(self, *args: Any, choices: dict[str, list] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        kind_field, medium_field = self.fields["kind"], self.fields["medium"]
        assert isinstance(kind_field, forms.ChoiceField) and isinstance(medium_field, forms.ChoiceField)
        # A blank first choice keeps the spare row empty (and unsaved) until someone picks a kind.
        kind_field.choices = [("", "---------")] + [(k.value, k.label) for k in EDITABLE_TRIGGER_KINDS]
        medium_field.choices = [("", _("The conversation's channel / the latest one"))] + [
            (value, label) for value, label in medium_choices() if value not in (Medium.API, Medium.LINK)
        ]
        self.fields["event_name"].help_text = _("For example order_delivered or subscription_cancelled.")
        self.fields["every_days"].help_text = _("90 asks the segment every quarter.")
        # The choice lists are read once for the whole formset rather than once per row.
        if choices is not None:
            channels_field, segment_field = self.fields["channels"], self.fields["segment"]
            assert isinstance(channels_field, forms.ChoiceField) and isinstance(
                segment_field, forms.ChoiceField
            )
            channels_field.choices = choices["channels"]
            segment_field.choices = choices["segments"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        kind = data.get("kind")
        if data.get("DELETE") or not kind:
            return data
        if kind == TriggerKind.EVENT and not data.get("event_name"):
            self.add_error("event_name", _("Name the event that sends the survey."))
        if kind == TriggerKind.SCHEDULE:
            if not data.get("segment"):
                self.add_error("segment", _("Choose the segment to ask."))
            if not data.get("every_days"):
                self.add_error("every_days", _("Say how often, in days."))
        return data


def trigger_choices() -> dict[str, list]:
    channels = [(c.pk, str(c)) for c in Channel.objects.filter(Q(is_active=True)).order_by("name")]
    segments = [("", "---------")] + [(s.pk, s.name) for s in Segment.objects.order_by("name")]
    return {"channels": channels, "segments": segments}


class BaseTriggerFormSet(forms.BaseInlineFormSet):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._choices = trigger_choices()
        super().__init__(*args, **kwargs)

    def get_form_kwargs(self, index: int | None) -> dict[str, Any]:
        return {**super().get_form_kwargs(index), "choices": self._choices}

    def get_queryset(self):  # type: ignore[override]
        return super().get_queryset().prefetch_related("channels").order_by("pk")


TriggerFormSet = forms.inlineformset_factory(
    Survey, Trigger, form=TriggerForm, formset=BaseTriggerFormSet, extra=1, can_delete=True, max_num=20
)
