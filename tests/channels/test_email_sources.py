"""Mail that arrives without a webhook: IMAP polling against a real local IMAP server, and file imports."""

from __future__ import annotations

import mailbox
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from channels_app.adapters.base import AdapterError
from channels_app.email.imap import poll_all, poll_mailbox
from channels_app.models import InboundEvent, InboundStatus
from channels_app.services import do_create_channel
from tests.fixture_loader import fixture_path
from tests.pipeline import fixture_bytes, process_all
from tests.stubs.imap import ImapStub
from tickets.models import Message

pytestmark = pytest.mark.django_db
MAILS = ["gmail_en_reply.eml", "cp1251_declared.eml", "koi8r_declared.eml", "gmail_pl_reply.eml"]


@pytest.fixture
def imap():
    stub = ImapStub().start()
    yield stub
    stub.stop()


@pytest.fixture
def channel(db, imap):
    return do_create_channel(
        kind="email",
        name="Support mailbox",
        address="support@shop.example",
        config={"imap_host": "127.0.0.1", "imap_port": imap.port, "imap_security": "none"},
        credentials={"imap_password": imap.password},
    )


def test_poll_stores_new_mail_once_and_remembers_the_uid(channel, imap):
    for name in MAILS[:3]:
        imap.add(fixture_bytes("email", name))
    assert poll_mailbox(channel) == 3
    channel.refresh_from_db()
    assert channel.config["imap_state"] == {"INBOX": {"uidvalidity": 1001, "last_uid": 3}}
    assert any(c.endswith("EXAMINE INBOX") or 'EXAMINE "INBOX"' in c for c in imap.commands)  # read-only

    assert poll_mailbox(channel) == 0  # nothing new
    imap.add(fixture_bytes("email", MAILS[3]))
    assert poll_mailbox(channel) == 1
    events = process_all()
    assert [e.status for e in events] == [InboundStatus.DONE] * 4
    assert Message.objects.filter(body__startswith="Прошу выставить счёт").exists()  # KOI8-R decoded


def test_new_uidvalidity_refetches_without_duplicating(channel, imap):
    imap.add(fixture_bytes("email", MAILS[0]))
    assert poll_mailbox(channel) == 1
    imap.uidvalidity = 2002  # the server renumbered the folder
    imap.add(fixture_bytes("email", MAILS[1]))
    assert poll_mailbox(channel) == 1  # the old mail is fetched again but recognised
    assert InboundEvent.objects.count() == 2
    channel.refresh_from_db()
    assert channel.config["imap_state"]["INBOX"] == {"uidvalidity": 2002, "last_uid": 2}


def test_dropped_connection_mid_batch_loses_nothing(channel, imap, monkeypatch):
    from channels_app.email import imap as imap_module

    monkeypatch.setattr(imap_module, "BATCH", 2)  # two batches: the second one breaks
    for name in MAILS:
        imap.add(fixture_bytes("email", name))
    imap.drop_after_fetching = 1
    with pytest.raises(AdapterError) as failed:
        poll_mailbox(channel)
    assert not failed.value.permanent
    channel.refresh_from_db()
    assert "imap_state" not in channel.config  # the first batch never completed
    imap.drop_after_fetching = None
    assert poll_mailbox(channel) == 4
    assert InboundEvent.objects.count() == 4


def test_wrong_password_is_a_clear_error_and_other_mailboxes_still_poll(channel, imap):
    other = do_create_channel(
        kind="email",
        name="Sales mailbox",
        address="sales@shop.example",
        config={
            "imap_host": "127.0.0.1",
            "imap_port": imap.port,
            "imap_security": "none",
            "imap_user": imap.user,
        },
        credentials={"imap_password": "wrong"},
    )
    imap.add(fixture_bytes("email", MAILS[0]))
    results = poll_all()
    assert results[channel.pk] == 1
    assert "Invalid credentials" in str(results[other.pk])


def test_ingest_mail_reads_files_maildir_and_mbox_and_is_idempotent(channel, tmp_path):
    maildir = mailbox.Maildir(str(tmp_path / "Maildir"), create=True)
    maildir.add(fixture_bytes("email", "gmail_ru_reply.eml"))
    maildir.add(fixture_bytes("email", "yandex_ru_reply.eml"))
    box = mailbox.mbox(str(tmp_path / "archive.mbox"), create=True)
    box.add(fixture_bytes("email", "outlook_pl_reply.eml"))
    box.add(fixture_bytes("email", "garbage_not_mime.eml"))
    box.flush()
    single = fixture_path("email", "gmail_en_reply.eml")
    paths = [str(single), str(tmp_path / "Maildir"), str(tmp_path / "archive.mbox")]

    out, err = StringIO(), StringIO()
    call_command("ingest_mail", str(channel.pk), *paths, stdout=out, stderr=err)
    assert "5 stored, 0 already there, 0 could not be read (of 5)" in out.getvalue()
    assert "5/5" in err.getvalue()  # the progress bar
    out = StringIO()
    call_command("ingest_mail", str(channel.pk), *paths, stdout=out, stderr=StringIO())
    assert "0 stored, 5 already there" in out.getvalue()

    events = process_all()
    statuses = sorted(e.status for e in events)
    assert statuses == [InboundStatus.DONE] * 4 + [InboundStatus.FAILED]
    assert Message.objects.filter(body__startswith="Proszę o korektę").exists()


def test_ingest_mail_refuses_unknown_channels_and_paths(channel, tmp_path):
    with pytest.raises(CommandError, match="no email channel"):
        call_command("ingest_mail", "999999", str(tmp_path))
    with pytest.raises(CommandError, match="not found"):
        call_command("ingest_mail", str(channel.pk), str(tmp_path / "nope.eml"))


def test_ingest_mail_reports_empty_files_and_goes_on(channel, tmp_path):
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "a_empty.eml").write_bytes(b"\r\n")
    (folder / "b_mail.eml").write_bytes(fixture_bytes("email", "thunderbird_pl_reply.eml"))
    out = StringIO()
    call_command("ingest_mail", str(channel.pk), str(folder), "--no-progress", stdout=out, stderr=StringIO())
    assert "1 stored, 0 already there, 1 could not be read (of 2)" in out.getvalue()
    assert f"{folder / 'a_empty.eml'}: empty file" in out.getvalue()
    assert InboundEvent.objects.count() == 1
