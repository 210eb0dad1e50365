"""The registry of where personal data lives covers every field that can hold it, and is consistent.

A new text, JSON, binary or file field on any installed model fails here until it is classified:
personal (with how erasure removes it and whether the export carries it), or not personal with a
reason.
"""

from __future__ import annotations

import pytest
from django.apps import apps

from profiles.personal_data import (
    CLASSIFIED_TYPES,
    Erase,
    is_not_personal,
    not_personal_entries,
    personal_entries,
    providers,
)
from profiles.privacy_erase import SCRUBBERS
from profiles.privacy_export import export_data, export_sections
from profiles.privacy_rows import collect
from tests.security.test_erasure import seed_person, telegram, webchat  # noqa: F401 (fixtures)


def _labelled() -> set[tuple[str, str]]:
    return {(entry.model, entry.field) for entry in personal_entries()}


def test_the_apps_above_profiles_classify_their_own_models():
    """tickets and surveys register their fields themselves; profiles lists none of theirs. analytics
    holds ids and counts only, so it declares its fields not personal and nothing else."""
    by_app = {provider.app: provider for provider in providers()}
    assert {"tickets", "surveys", "analytics"} <= set(by_app)
    assert not by_app["analytics"].personal and by_app["analytics"].not_personal
    for app, provider in by_app.items():
        assert provider.personal or app == "analytics"
        assert all(entry.model.startswith(f"{app}.") for entry in provider.personal)
        assert all(item.model.startswith(f"{app}.") for item in provider.not_personal)
        assert all(model.startswith(f"{app}.") for model in provider.sections)
    from profiles import personal_data

    own = {entry.model.split(".")[0] for entry in personal_data._OWN_PERSONAL}
    assert not own & {"tickets", "surveys", "analytics"}


def test_every_text_json_binary_and_file_field_is_classified():
    personal = _labelled()
    unclassified = [
        f"{model._meta.label}.{field.name}"
        for model in apps.get_models(include_auto_created=True)
        for field in model._meta.concrete_fields
        if isinstance(field, CLASSIFIED_TYPES)
        and (model._meta.label, field.name) not in personal
        and not is_not_personal(model._meta.label, field.name)
    ]
    assert unclassified == [], "classify these in profiles/personal_data.py"


def test_entries_name_real_fields_and_are_not_also_declared_not_personal():
    for entry in personal_entries():
        model = apps.get_model(entry.model)
        assert isinstance(model._meta.get_field(entry.field), CLASSIFIED_TYPES), entry
        assert not is_not_personal(entry.model, entry.field), entry
    for item in not_personal_entries():
        model = apps.get_model(item.model)
        for name in item.fields:
            model._meta.get_field(name)
        assert item.reason.strip(), item
    assert len(_labelled()) == len(personal_entries()), "a field is listed twice"


def test_erasure_knows_how_to_erase_every_entry():
    for entry in personal_entries():
        if entry.erase == Erase.SCRUB:
            assert (entry.model, entry.field) in SCRUBBERS, entry
        if entry.erase == Erase.MARKER:
            field = apps.get_model(entry.model)._meta.get_field(entry.field)
            assert field.max_length is None or field.max_length >= 28, entry  # "erased:" + a big id


@pytest.mark.django_db
def test_every_row_set_the_registry_names_is_collected():
    from profiles.models import Customer

    found = collect([Customer.objects.create(name="Nobody").pk])
    assert {entry.rows for entry in personal_entries()} <= set(found.rows)


@pytest.mark.django_db
def test_export_carries_every_field_the_registry_marks_exported(client, telegram, webchat, agent):  # noqa: F811
    seeded = seed_person(client, telegram, webchat, agent)
    data, _files = export_data(seeded["customer"])

    def rows_of(section: str) -> list[dict]:
        head, *rest = section.split(".")
        found = data[head] if isinstance(data[head], list) else [data[head]]
        for nested in rest:
            found = [item for row in found for item in row[nested]]
        return found

    sections = export_sections()
    for entry in personal_entries():
        if not entry.exported:
            continue
        assert entry.model in sections, f"{entry.model} is exported but has no place in customer.json"
        rows = rows_of(sections[entry.model])
        assert rows, f"the seeded person has no {entry.model} rows to check"
        assert all(entry.field in row for row in rows), entry
