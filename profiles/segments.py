"""Segment definitions: strict validation, and compilation to one customer query.

A definition is a list of conditions that must all hold. A condition is either a group,
``{"any": [...]}`` or ``{"all": [...]}``, or one rule:

    {"type": "attribute", "field": "company", "op": "contains", "value": "Acme"}
    {"type": "identity", "kind": "telegram", "op": "has"}
    {"type": "event", "name": "order_placed", "op": "did", "days": 30}
    {"type": "conversation", "status": "open", "op": "has"}
    {"type": "nps", "group": "detractor"}

Everything compiles to EXISTS/subqueries on the customer table, so a count or a page of matching
customers is one SQL statement whatever the definition, and callers can keep filtering the queryset.
Conditions on profiles' own data are compiled here; those on conversations and survey answers are
compiled by the apps that hold them (profiles.segment_conditions).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.db.models import CharField, Exists, F, Func, OuterRef, Q, QuerySet
from django.db.models.lookups import In
from django.utils import timezone
from django.utils.translation import gettext as _

from profiles import segment_conditions
from profiles.attributes import STANDARD_FIELDS, AttributeValueError, coerce
from profiles.models import AttributeDefinition, Customer, CustomerEvent, Identity, IdentityKind, Segment

MAX_CONDITIONS = 50
MAX_DEPTH = 3
MAX_DAYS = 3650
DATE_FIELDS = ("created_at", "last_seen_at")
PRESENCE_OPS = ("is_set", "is_not_set")
OPS_BY_TYPE = {
    "text": ("equals", "contains", *PRESENCE_OPS),
    "choice": ("equals", *PRESENCE_OPS),
    "boolean": ("equals", *PRESENCE_OPS),
    "number": ("equals", "greater", "less", *PRESENCE_OPS),
    "date": ("equals", "greater", "less", *PRESENCE_OPS),
    "datetime": ("equals", "greater", "less", *PRESENCE_OPS),
}
HAS_OPS = ("has", "has_not")
EVENT_OPS = ("did", "did_not")
_OWN_KEYS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "attribute": (frozenset({"field", "op"}), frozenset({"value"})),
    "identity": (frozenset({"kind", "op"}), frozenset()),
    "event": (frozenset({"name", "op"}), frozenset({"days"})),
}


def condition_keys() -> dict[str, tuple[frozenset[str], frozenset[str]]]:
    """(required, optional) keys of every condition type: profiles' own, then the registered ones."""
    keys = dict(_OWN_KEYS)
    for kind, condition in segment_conditions.registered().items():
        keys.setdefault(kind, (condition.required, condition.optional))
    return keys


def condition_ops(kind: str) -> tuple[str, ...]:
    """The operators the editor offers for a registered condition type (none if it is not installed)."""
    condition = segment_conditions.registered().get(kind)
    return condition.ops if condition else ()


class SegmentError(ValueError):
    """A definition we refuse; the message says which condition and why, for the person editing it."""

    positioned = False  # the message already names its condition


def active_customers() -> QuerySet[Customer]:
    # Merged-away profiles are hidden duplicates and erased ones have nothing left to reach.
    return Customer.objects.filter(merged_into__isnull=True, erased_at__isnull=True)


def attribute_type(field: str, definitions: dict[str, AttributeDefinition]) -> str | None:
    if field in STANDARD_FIELDS:
        return "text"
    if field in DATE_FIELDS:
        return "datetime"
    return definitions[field].type if field in definitions else None


def referenced_definitions(definition: Any) -> dict[str, AttributeDefinition]:
    """The custom attributes a definition names, in one query (none when it names none)."""
    keys: set[str] = set()

    def walk(nodes: Any) -> None:
        for node in nodes if isinstance(nodes, list) else []:
            if isinstance(node, dict):
                walk(node.get("any", node.get("all")))
                if node.get("type") == "attribute" and isinstance(node.get("field"), str):
                    keys.add(node["field"])

    walk(definition)
    keys -= {*STANDARD_FIELDS, *DATE_FIELDS}
    return {d.key: d for d in AttributeDefinition.objects.filter(key__in=keys)} if keys else {}


def clean_rule(rule: Any, definitions: dict[str, AttributeDefinition]) -> dict[str, Any]:
    """One rule, normalized (values in their stored form); SegmentError without the position."""
    if not isinstance(rule, dict):
        raise SegmentError(_("not a condition"))
    kind = rule.get("type")
    keys = condition_keys()
    if not isinstance(kind, str) or kind not in keys:
        raise SegmentError(
            _("unknown condition type “%(type)s”; use one of: %(choices)s")
            % {"type": str(kind)[:40], "choices": ", ".join(keys)}
        )
    required, optional = keys[kind]
    unknown = set(rule) - required - optional - {"type"}
    if unknown:
        raise SegmentError(_("unknown keys: %(keys)s") % {"keys": ", ".join(sorted(map(str, unknown)))[:200]})
    missing = sorted(required - set(rule))
    if missing:
        raise SegmentError(_("missing: %(keys)s") % {"keys": ", ".join(missing)})
    clean = dict(rule)
    if kind == "attribute":
        clean["value"] = _clean_attribute(rule, definitions)
        if clean["value"] is None:
            del clean["value"]
    elif kind == "identity":
        check_choice(rule["kind"], IdentityKind.values, _("identity kind"))
        check_choice(rule["op"], HAS_OPS, _("operator"))
    elif kind not in _OWN_KEYS:
        clean = segment_conditions.registered()[kind].clean(clean)
    else:
        check_choice(rule["op"], EVENT_OPS, _("operator"))
        if not isinstance(rule["name"], str) or not rule["name"].strip() or len(rule["name"]) > 100:
            raise SegmentError(_("an event name of 1 to 100 characters is needed"))
        clean["name"] = rule["name"].strip()
        days = rule.get("days")
        if days is not None and (type(days) is not int or not 1 <= days <= MAX_DAYS):
            raise SegmentError(_("days must be a whole number from 1 to %(max)s") % {"max": MAX_DAYS})
    return clean


def check_choice(value: Any, allowed, what: str) -> None:
    if not isinstance(value, str) or value not in allowed:
        raise SegmentError(
            _("unknown %(what)s “%(value)s”; use one of: %(choices)s")
            % {"what": what, "value": str(value)[:40], "choices": ", ".join(allowed)}
        )


def _clean_attribute(rule: dict[str, Any], definitions: dict[str, AttributeDefinition]) -> Any:
    field, op = rule["field"], rule["op"]
    kind = attribute_type(field, definitions) if isinstance(field, str) else None
    if kind is None:
        raise SegmentError(_("unknown attribute “%(field)s”") % {"field": str(field)[:60]})
    if op not in OPS_BY_TYPE[kind]:
        raise SegmentError(
            _("“%(op)s” does not apply to %(field)s; use one of: %(choices)s")
            % {"op": str(op)[:40], "field": field, "choices": ", ".join(OPS_BY_TYPE[kind])}
        )
    value = rule.get("value")
    if op in PRESENCE_OPS:
        if value not in (None, ""):
            raise SegmentError(_("“%(op)s” takes no value") % {"op": op})
        return None
    if value is None or (isinstance(value, str) and not value.strip()):
        raise SegmentError(_("a value is needed"))
    if not isinstance(value, str | int | float | bool):
        raise SegmentError(_("the value must be text, a number or yes/no"))
    if kind == "text" and field in STANDARD_FIELDS:
        return str(value).strip()[:200]
    if kind == "datetime":
        try:
            return date.fromisoformat(str(value)[:10]).isoformat()
        except ValueError:
            raise SegmentError(_("the value must be a date (YYYY-MM-DD)")) from None
    try:
        return coerce(definitions[field], value)
    except AttributeValueError as exc:
        raise SegmentError(str(exc)) from None


def validate(definition: Any, definitions: dict[str, AttributeDefinition] | None = None) -> list:
    """The definition in normalized form, or SegmentError naming the condition ("Condition 1.2: ...")."""
    if definitions is None:
        definitions = referenced_definitions(definition)
    if not isinstance(definition, list):
        raise SegmentError(_("Conditions must be a list."))
    count = 0

    def walk(nodes: list, prefix: str, depth: int) -> list:
        nonlocal count
        cleaned = []
        for number, node in enumerate(nodes, 1):
            position = f"{prefix}{number}"
            group = next((k for k in ("any", "all") if isinstance(node, dict) and k in node), None)
            try:
                if group is not None:
                    if len(node) != 1 or not isinstance(node[group], list) or not node[group]:
                        raise SegmentError(_("a group holds one non-empty list under “any” or “all”"))
                    if depth >= MAX_DEPTH:
                        raise SegmentError(_("groups nest at most %(max)s deep") % {"max": MAX_DEPTH})
                    cleaned.append({group: walk(node[group], f"{position}.", depth + 1)})
                    continue
                count += 1
                if count > MAX_CONDITIONS:
                    raise SegmentError(_("at most %(max)s conditions") % {"max": MAX_CONDITIONS})
                cleaned.append(clean_rule(node, definitions))
            except SegmentError as exc:
                if exc.positioned:
                    raise
                error = SegmentError(
                    _("Condition %(position)s: %(problem)s") % {"position": position, "problem": exc}
                )
                error.positioned = True
                raise error from None
        return cleaned

    return walk(definition, "", 1)


class _JSONType(Func):
    """The JSON type of one key of Customer.attributes, so a comparison never mixes numbers and text."""

    output_field = CharField()

    def __init__(self, key: str):
        super().__init__(F("attributes"))
        self.key = key

    def as_postgresql(self, compiler, connection, **extra_context):
        sql, params = compiler.compile(self.source_expressions[0])
        return f"jsonb_typeof({sql} -> %s)", (*params, self.key)

    def as_sqlite(self, compiler, connection, **extra_context):
        sql, params = compiler.compile(self.source_expressions[0])
        return f"json_type({sql}, %s)", (*params, f'$."{self.key}"')


def _attribute_q(rule: dict[str, Any], kind: str) -> Q:
    field, op, value = rule["field"], rule["op"], rule.get("value")
    if kind == "datetime":
        lookups = {"equals": "date", "greater": "date__gt", "less": "date__lt"}
        if op in PRESENCE_OPS:
            return Q(**{f"{field}__isnull": op == "is_not_set"})
        return Q(**{f"{field}__{lookups[op]}": date.fromisoformat(str(value))})
    if field in STANDARD_FIELDS:
        if op in PRESENCE_OPS:
            return Q(**{field: ""}) if op == "is_not_set" else ~Q(**{field: ""})
        return Q(**{f"{field}__{'iexact' if op == 'equals' else 'icontains'}": value})
    path = f"attributes__{field}"
    if op in PRESENCE_OPS:
        is_set = Q(attributes__has_key=field) & ~Q(**{path: None}) & ~Q(**{path: ""})
        return is_set if op == "is_set" else ~is_set
    if op == "contains":
        return Q(**{f"{path}__icontains": value})
    if op == "equals":
        return Q(**{f"{path}__iexact" if kind == "text" else path: value})
    # jsonb orders every string below every number; comparing only values of the right type avoids it.
    types = ["number", "integer", "real"] if kind == "number" else ["string", "text"]
    return Q(**{f"{path}__{'gt' if op == 'greater' else 'lt'}": value}) & Q(In(_JSONType(field), types))


def _rule_q(rule: dict[str, Any], definitions: dict[str, AttributeDefinition]) -> Q:
    kind = rule["type"]
    if kind == "attribute":
        return _attribute_q(rule, attribute_type(rule["field"], definitions) or "text")
    if kind not in _OWN_KEYS:
        # validate() let only registered types through.
        return segment_conditions.registered()[kind].compile(rule)
    related: QuerySet
    if kind == "identity":
        related = Identity.objects.filter(customer_id=OuterRef("pk"), kind=rule["kind"])
    else:
        related = CustomerEvent.objects.filter(customer_id=OuterRef("pk"), name=rule["name"])
        if rule.get("days"):
            related = related.filter(occurred_at__gte=timezone.now() - timedelta(days=rule["days"]))
    exists = Q(Exists(related))
    return exists if rule["op"] in ("has", "did") else ~exists


def _group_q(nodes: list, definitions: dict[str, AttributeDefinition], combine_any: bool) -> Q:
    result = Q()
    for node in nodes:
        if "any" in node or "all" in node:
            part = _group_q(node.get("any", node.get("all")), definitions, "any" in node)
        else:
            part = _rule_q(node, definitions)
        result = (result | part) if combine_any and result else (result & part)
    return result


def customers_matching(definition: Any) -> QuerySet[Customer]:
    """Customers a (possibly unsaved) definition selects; SegmentError if it is not valid."""
    definitions = referenced_definitions(definition)
    cleaned = validate(definition, definitions)
    return active_customers().filter(_group_q(cleaned, definitions, combine_any=False))


def customers_in_segment(segment: Segment) -> QuerySet[Customer]:
    """The segment's customers as a lazy queryset (one statement when evaluated), for the inbox,
    surveys and dashboards to filter further. A definition that no longer validates (an attribute
    deleted since) raises SegmentError rather than silently matching everyone."""
    return customers_matching(segment.definition)
