"""Resolution rules: what an identity a customer reveals may do to their profile and to someone else's."""

from __future__ import annotations

import pytest

from channels_app.services import do_create_channel
from profiles.merge import do_undo_merge
from profiles.models import (
    BlockedIdentity,
    Customer,
    Identity,
    IdentityKind,
    MergeLog,
    MergeSuggestion,
    ResolutionAction,
    ResolutionRule,
    SuggestionStatus,
)
from profiles.resolution import DEFAULT_RULES, blocked_reason, rule_for
from profiles.services import do_attach_identity, do_dismiss_suggestion, do_identify, do_resolve_sender
from tests.pipeline import post_telegram_text, process_all
from tickets.models import Message

pytestmark = pytest.mark.django_db

EMAIL, PHONE = IdentityKind.EMAIL, IdentityKind.PHONE
EXTERNAL, TELEGRAM, WEBCHAT = IdentityKind.EXTERNAL_ID, IdentityKind.TELEGRAM, IdentityKind.WEBCHAT
TG_SECRET = "tg-webhook-secret-0123456789"


def person(name: str, *identities: tuple[str, str], verified: bool = True) -> Customer:
    customer = Customer.objects.create(name=name)
    for kind, value in identities:
        Identity.objects.create(customer=customer, kind=kind, value=value, verified=verified)
    return customer


def attach(customer: Customer, kind: str, value: str, *, verified: bool = False, **extra):
    return do_attach_identity(
        customer=customer, kind=kind, value=value, verified=verified, source="test", **extra
    )


def set_rule(kind: str, action: str = ResolutionAction.SUGGEST, **extra) -> ResolutionRule:
    """An admin's rule row; what it does not set stays as the built-in default for that kind."""
    default = DEFAULT_RULES[kind]
    values = {"priority": default.priority, "max_per_customer": default.max_per_customer, **extra}
    return ResolutionRule.objects.update_or_create(kind=kind, defaults={"action": action, **values})[0]


def owners() -> dict[tuple[str, str], int]:
    return {(i.kind, i.value): i.customer_id for i in Identity.objects.all()}


# --- Exact matches ----------------------------------------------------------------------------------
def test_a_known_identity_finds_its_customer_in_any_spelling():
    marta = person("Marta", (PHONE, "+48601234567"), (EMAIL, "marta.nowak@gmail.com"))
    assert do_resolve_sender(kind=PHONE, value="601 234 567", region="PL").pk == marta.pk
    assert do_resolve_sender(kind=PHONE, value="+48 601-234-567").pk == marta.pk
    assert do_resolve_sender(kind=EMAIL, value="Marta.Nowak@Gmail.com").pk == marta.pk
    assert Customer.objects.count() == 1 and Identity.objects.count() == 2


def test_a_new_identity_attaches_to_whoever_revealed_it_and_a_known_one_is_known():
    marta = person("Marta", (TELEGRAM, "501234567"))
    outcome = attach(marta, EMAIL, " Marta.Nowak@Example.PL ")
    assert (outcome.status, outcome.value) == ("attached", "marta.nowak@example.pl")
    identity = marta.identities.get(kind=EMAIL)
    assert (identity.verified, identity.source) == (False, "test")

    assert attach(marta, EMAIL, "marta.nowak@example.pl").status == "known"
    assert attach(marta, EMAIL, "MARTA.NOWAK@example.pl", verified=True).status == "known"
    identity.refresh_from_db()
    assert identity.verified  # proof arriving later upgrades the identity
    assert Identity.objects.count() == 2 and not MergeSuggestion.objects.exists()


def test_another_spelling_of_ones_own_mailbox_is_added_not_suggested():
    laura = person("Laura", (EMAIL, "laurachen@gmail.com"))
    outcome = attach(laura, EMAIL, "Laura.Chen+shop@gmail.com")
    assert outcome.status == "attached"
    assert set(laura.identities.values_list("value", flat=True)) == {
        "laurachen@gmail.com",
        "laura.chen+shop@gmail.com",
    }


def test_invalid_values_are_refused_with_the_reason():
    marta = person("Marta")
    outcome = attach(marta, PHONE, "601 234 567")  # national, and no region to read it with
    assert outcome.status == "invalid" and "601 234 567" in outcome.detail
    assert attach(marta, EMAIL, "marta@").status == "invalid"
    assert not Identity.objects.exists()


# --- Revealed identities that belong to someone else ------------------------------------------------
@pytest.fixture
def telegram(db):
    return do_create_channel(
        kind="telegram",
        name="Bot",
        config={"default_region": "PL"},
        credentials={"bot_token": "7000000001:AAFakeTokenForTests", "webhook_secret": TG_SECRET},
    )


def deliver_telegram(client, channel, update_id: int, user_id: int, text: str) -> None:
    user = {"id": user_id, "first_name": "Marta"}
    response = post_telegram_text(
        client,
        channel.pk,
        secret=TG_SECRET,
        update_id=update_id,
        user=user,
        text=text,
        date=1763800000 + update_id,
    )
    assert response.status_code == 200


@pytest.mark.parametrize("action", [ResolutionAction.SUGGEST, ResolutionAction.AUTO_MERGE])
def test_an_identity_typed_in_a_chat_suggests_a_merge_with_evidence(client, telegram, action):
    set_rule(EMAIL, action)
    set_rule(PHONE, action)
    marta = person("Marta Nowak", (EMAIL, "marta.nowak@example.pl"), (PHONE, "+48601234567"))
    before = owners()

    deliver_telegram(client, telegram, 1, 777001, "Dzień dobry, mój mail: Marta.Nowak@example.pl")
    deliver_telegram(client, telegram, 2, 777001, "tel. 601 234 567, proszę o kontakt")
    process_all()

    chat = Identity.objects.get(kind=TELEGRAM, value="777001").customer
    assert chat.pk != marta.pk and chat.merged_into_id is None  # unverified: never merged on its own
    assert not MergeLog.objects.exists()
    assert owners() == {**before, (TELEGRAM, "777001"): chat.pk}  # and never duplicated
    suggestion = MergeSuggestion.objects.get()
    assert {suggestion.customer_id, suggestion.other_id} == {marta.pk, chat.pk}
    assert suggestion.status == SuggestionStatus.OPEN
    first, second = Message.objects.order_by("id")
    evidence = [(e["kind"], e["value"], e["verified"], e["message_id"]) for e in suggestion.evidence]
    assert evidence == [
        (EMAIL, "marta.nowak@example.pl", False, first.pk),
        (PHONE, "+48601234567", False, second.pk),
    ]
    assert all(
        e["source"] == "message" and e["conversation_id"] == first.conversation_id
        for e in suggestion.evidence
    )


def test_another_spelling_of_someone_elses_mailbox_is_evidence_too():
    laura = person("Laura", (EMAIL, "laurachen@gmail.com"))
    chat = person("Visitor", (WEBCHAT, "v-1"))
    outcome = attach(chat, EMAIL, "l.aura.chen+shop@googlemail.com")
    assert (outcome.status, outcome.other_customer_id) == ("suggested", laura.pk)
    assert not chat.identities.filter(kind=EMAIL).exists()


def test_a_verified_identity_merges_under_an_auto_merge_rule():
    shop = person("Shop account", (EXTERNAL, "user-42"), (EMAIL, "marta@example.pl"))
    chat = person("Visitor", (WEBCHAT, "visitor-9"))
    outcome = attach(chat, EXTERNAL, "user-42", verified=True)
    assert (outcome.status, outcome.other_customer_id) == ("merged", shop.pk)
    log = MergeLog.objects.get(pk=outcome.merge_log_id)
    # The profile already holding the verified identity is the established one and survives.
    assert (log.survivor_id, log.merged_id) == (shop.pk, chat.pk)
    assert "external_id" in log.reason
    chat.refresh_from_db()
    assert chat.merged_into_id == shop.pk
    assert Identity.objects.get(value="visitor-9").customer_id == shop.pk


def test_verified_evidence_still_only_suggests_under_a_suggest_rule():
    marta = person("Marta", (EMAIL, "marta@example.pl"))
    chat = person("Visitor", (WEBCHAT, "v-2"))
    assert attach(chat, EMAIL, "marta@example.pl", verified=True).status == "suggested"
    assert not MergeLog.objects.exists()
    set_rule(EMAIL, ResolutionAction.AUTO_MERGE)
    outcome = attach(chat, EMAIL, "marta@example.pl", verified=True)
    assert outcome.status == "merged"
    # The pending suggestion for this very pair was settled by the merge.
    assert MergeSuggestion.objects.get().status == SuggestionStatus.ACCEPTED
    assert Customer.objects.get(pk=chat.pk).merged_into_id == marta.pk


def test_an_ignore_rule_leaves_both_profiles_alone():
    set_rule(PHONE, ResolutionAction.IGNORE)
    marta = person("Marta", (PHONE, "+48601234567"))
    chat = person("Visitor", (WEBCHAT, "v-3"))
    before = owners()
    outcome = attach(chat, PHONE, "+48 601 234 567", verified=True)
    assert (outcome.status, outcome.other_customer_id) == ("ignored", marta.pk)
    assert owners() == before
    assert not MergeSuggestion.objects.exists() and not MergeLog.objects.exists()
    # Ignore is about conflicts: a number nobody holds still attaches.
    assert attach(chat, PHONE, "+48601234568").status == "attached"


def test_rules_default_and_admin_rows_override():
    assert rule_for(EXTERNAL).action == ResolutionAction.AUTO_MERGE
    assert rule_for(EMAIL).action == ResolutionAction.SUGGEST
    assert (rule_for(EXTERNAL).max_per_customer, rule_for(EXTERNAL).priority) == (1, 10)
    set_rule(EXTERNAL, ResolutionAction.SUGGEST, priority=50, max_per_customer=2)
    assert (rule_for(EXTERNAL).action, rule_for(EXTERNAL).priority) == (ResolutionAction.SUGGEST, 50)


# --- Limits -----------------------------------------------------------------------------------------
def test_at_most_one_external_id_per_customer():
    shop = person("Shop account", (EXTERNAL, "user-1"))
    outcome = attach(shop, EXTERNAL, "user-2", verified=True)
    assert outcome.status == "limit" and "1" in outcome.detail
    assert list(shop.identities.values_list("value", flat=True)) == ["user-1"]
    assert not Identity.objects.filter(value="user-2").exists()


def test_phone_limit_and_a_raised_limit():
    marta = person("Marta", *[(PHONE, f"+4860123456{n}") for n in range(3)])
    assert attach(marta, PHONE, "+48601234569").status == "limit"
    set_rule(PHONE, max_per_customer=4)
    assert attach(marta, PHONE, "+48601234569").status == "attached"


def test_a_shared_browser_does_not_fold_two_accounts_together():
    """A verified external id proves who is signed in now, not that the previous user was them."""
    first = person("First user", (EXTERNAL, "user-1"), (WEBCHAT, "browser-1"))
    second = person("Second user", (EXTERNAL, "user-2"))
    outcome = attach(first, EXTERNAL, "user-2", verified=True)
    assert outcome.status == "suggested" and "exceed" in outcome.detail
    assert not MergeLog.objects.exists()
    assert Customer.objects.filter(merged_into__isnull=False).count() == 0
    suggestion = MergeSuggestion.objects.get()
    assert {suggestion.customer_id, suggestion.other_id} == {first.pk, second.pk}


def test_a_limit_only_one_side_exceeds_blocks_no_merge():
    shop = person("Shop account", (EXTERNAL, "user-7"), *[(PHONE, f"+4860123456{n}") for n in range(3)])
    chat = person("Visitor", (PHONE, "+48601234569"), (WEBCHAT, "v-4"))
    assert attach(chat, EXTERNAL, "user-7", verified=True).status == "suggested"  # 4 phones > 3
    set_rule(PHONE, max_per_customer=2)  # lowered after shop already had 3; chat has none now
    Identity.objects.filter(customer=chat, kind=PHONE).delete()
    assert attach(chat, EXTERNAL, "user-7", verified=True).status == "merged"
    assert Customer.objects.get(pk=chat.pk).merged_into_id == shop.pk


# --- Blocked values ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kind", "value"),
    [
        (EMAIL, "info@shop.example"),
        (EMAIL, "Kontakt@Firma.PL"),
        (EMAIL, "no-reply@bank.example"),
        (EMAIL, "i.n.f.o+orders@gmail.com"),  # the same mailbox as info@gmail.com
        (PHONE, "+7 000 000-00-00"),
        (PHONE, "+1 555 555 0105"),
        (IdentityKind.WHATSAPP, "+48 000 000 000"),
    ],
)
def test_shared_and_test_values_are_refused_with_a_reason(kind, value):
    marta = person("Marta")
    outcome = attach(marta, kind, value, verified=True)
    assert outcome.status == "blocked" and outcome.detail
    assert not Identity.objects.exists()


def test_admin_blocked_values_match_however_they_were_typed():
    BlockedIdentity.objects.create(kind=EMAIL, value="Biuro.Firma@Gmail.com", reason="front desk")
    BlockedIdentity.objects.create(kind=PHONE, value="+48 22 123 45 67", reason="switchboard")
    BlockedIdentity.objects.create(kind=EMAIL, value="*@competitor.pl", reason="competitor")
    assert blocked_reason(EMAIL, "biuro.firma@gmail.com") == "front desk"
    assert blocked_reason(EMAIL, "biurofirma+x@gmail.com") == "front desk"
    assert blocked_reason(PHONE, "+48221234567") == "switchboard"
    assert blocked_reason(EMAIL, "jan@competitor.pl") == "competitor"
    assert blocked_reason(EMAIL, "jan@competitor.pl.example") == ""
    assert blocked_reason(EMAIL, "biuro.x@firma.pl") == ""
    marta = person("Marta")
    outcome = attach(marta, PHONE, "22 123 45 67", region="PL")
    assert (outcome.status, outcome.detail) == ("blocked", "switchboard")


def test_a_blocked_value_someone_else_holds_links_nobody():
    shared = person("Front desk", (EMAIL, "info@shop.example"))
    marta = person("Marta", (TELEGRAM, "501"))
    assert attach(marta, EMAIL, "info@shop.example", verified=True).status == "blocked"
    assert not MergeSuggestion.objects.exists() and not MergeLog.objects.exists()
    assert shared.identities.count() == 1


# --- One open suggestion per pair -------------------------------------------------------------------
def test_repeated_evidence_accumulates_on_one_open_suggestion():
    marta = person("Marta", (EMAIL, "marta@example.pl"), (PHONE, "+48601234567"))
    chat = person("Visitor", (TELEGRAM, "501"))
    first = attach(chat, EMAIL, "marta@example.pl", evidence={"message_id": 1})
    again = attach(chat, EMAIL, "marta@example.pl", evidence={"message_id": 2})
    replay = attach(chat, EMAIL, "marta@example.pl", evidence={"message_id": 2})
    phone = attach(chat, PHONE, "+48601234567", evidence={"message_id": 3})
    # Whichever side reveals the other's identity, it is the same pair.
    Identity.objects.create(customer=chat, kind=IdentityKind.INSTAGRAM, value="marta.ig")
    reverse = attach(marta, IdentityKind.INSTAGRAM, "marta.ig", evidence={"message_id": 4})

    ids = {o.suggestion_id for o in (first, again, replay, phone, reverse)}
    suggestion = MergeSuggestion.objects.get()
    assert ids == {suggestion.pk}
    assert [(e["kind"], e["message_id"]) for e in suggestion.evidence] == [
        (EMAIL, 1),
        (EMAIL, 2),
        (PHONE, 3),
        (IdentityKind.INSTAGRAM, 4),
    ]
    assert (suggestion.customer_id, suggestion.other_id) == tuple(sorted((marta.pk, chat.pk)))


def test_evidence_after_a_dismissal_opens_a_new_suggestion():
    marta = person("Marta", (EMAIL, "marta@example.pl"))
    chat = person("Visitor", (TELEGRAM, "501"))
    first = MergeSuggestion.objects.get(pk=attach(chat, EMAIL, "marta@example.pl").suggestion_id)
    do_dismiss_suggestion(suggestion=first, actor=None)
    second = attach(chat, EMAIL, "marta@example.pl", evidence={"message_id": 9})
    assert second.suggestion_id != first.pk
    assert MergeSuggestion.objects.filter(status=SuggestionStatus.OPEN).count() == 1
    assert marta.identities.count() == 1


# --- Identify: the strongest identity decides -------------------------------------------------------
def test_identify_creates_a_customer_and_attaches_verified_identities():
    result = do_identify(
        identities=[(EMAIL, "Marta@Example.pl"), (EXTERNAL, "user-1"), (PHONE, "+48 601 234 567")],
        attributes={"name": "Marta Nowak"},
    )
    assert result.created and result.customer.name == "Marta Nowak"
    assert [o.status for o in result.outcomes] == ["attached"] * 3
    assert [o.kind for o in result.outcomes] == [EXTERNAL, EMAIL, PHONE]  # strongest first
    assert set(result.customer.identities.values_list("verified", flat=True)) == {True}
    again = do_identify(identities=[(PHONE, "+48601234567")])
    assert not again.created and again.customer.pk == result.customer.pk


@pytest.mark.parametrize("order", [1, -1])
def test_the_strongest_known_identity_decides_the_customer(order):
    shop = person("Shop account", (EXTERNAL, "user-1"))
    mail = person("Mail contact", (EMAIL, "marta@example.pl"))
    result = do_identify(identities=[(EMAIL, "marta@example.pl"), (EXTERNAL, "user-1")][::order])
    assert result.customer.pk == shop.pk and not result.created
    email = next(o for o in result.outcomes if o.kind == EMAIL)
    assert (email.status, email.other_customer_id) == ("suggested", mail.pk)


def test_an_admin_priority_changes_who_decides():
    set_rule(EMAIL, priority=5)
    person("Shop account", (EXTERNAL, "user-1"))
    mail = person("Mail contact", (EMAIL, "marta@example.pl"))
    result = do_identify(identities=[(EXTERNAL, "user-1"), (EMAIL, "marta@example.pl")])
    assert result.customer.pk == mail.pk


def test_identify_with_a_stronger_identity_of_someone_else_merges_into_it():
    shop = person("Shop account", (EXTERNAL, "user-1"))
    chat = person("Visitor", (WEBCHAT, "v-1"))
    result = do_identify(identities=[(WEBCHAT, "v-1"), (EXTERNAL, "user-1")])
    assert result.customer.pk == shop.pk
    assert Customer.objects.get(pk=chat.pk).merged_into_id is None  # external id decided: no merge needed
    assert {o.status for o in result.outcomes} == {"known", "suggested"}


def test_identify_finds_a_person_by_another_spelling_of_their_mailbox():
    laura = person("Laura", (EMAIL, "laurachen@gmail.com"))
    result = do_identify(identities=[(EMAIL, "Laura.Chen@googlemail.com")])
    assert not result.created and result.customer.pk == laura.pk
    assert result.outcomes[0].status == "attached"
    assert Customer.objects.count() == 1 and not MergeSuggestion.objects.exists()


def test_a_shared_mailbox_never_decides_who_is_identified():
    front_desk = do_resolve_sender(kind=EMAIL, value="info@shop.example")  # it wrote to us once
    result = do_identify(identities=[(EMAIL, "info@shop.example"), (PHONE, "+48601234567")])
    assert result.created and result.customer.pk != front_desk.pk
    assert [o.status for o in result.outcomes] == ["blocked", "attached"]
    assert front_desk.identities.count() == 1


def test_identify_refuses_invalid_input_before_writing():
    with pytest.raises(ValueError):
        do_identify(identities=[])
    with pytest.raises(ValueError):
        do_identify(identities=[(EXTERNAL, "user-1"), (PHONE, "601 234 567")])
    assert not Customer.objects.exists()


def test_an_auto_merge_keeps_the_profile_with_the_stronger_identity():
    set_rule(PHONE, ResolutionAction.AUTO_MERGE)
    mail = person("Mail contact", (EMAIL, "marta@example.pl"))
    phone = person("Caller", (PHONE, "+48601234567"))
    result = do_identify(identities=[(PHONE, "+48601234567"), (EMAIL, "marta@example.pl")])
    assert result.customer.pk == mail.pk  # the e-mail outranks the phone, in the choice and the merge
    log = MergeLog.objects.get()
    assert (log.survivor_id, log.merged_id) == (mail.pk, phone.pk)
    do_undo_merge(log=log)
    assert Identity.objects.get(kind=PHONE).customer_id == phone.pk


def test_identities_after_an_auto_merge_go_to_the_survivor():
    """The call's strongest identity may lose to one its owner holds outside the call."""
    set_rule(PHONE, ResolutionAction.AUTO_MERGE)
    mail = person("Mail contact", (EMAIL, "marta@example.pl"))
    shop = person("Shop account", (EXTERNAL, "user-1"), (PHONE, "+48601234567"))
    result = do_identify(
        identities=[(EMAIL, "marta@example.pl"), (PHONE, "+48601234567"), (TELEGRAM, "501")],
        attributes={"company": "Nowak sp. z o.o."},
    )
    assert [o.status for o in result.outcomes] == ["known", "merged", "attached"]
    assert result.customer.pk == shop.pk and result.customer.company == "Nowak sp. z o.o."
    assert Customer.objects.get(pk=mail.pk).merged_into_id == shop.pk
    assert Identity.objects.get(kind=TELEGRAM).customer_id == shop.pk
    assert not Identity.objects.filter(customer=mail).exists()
