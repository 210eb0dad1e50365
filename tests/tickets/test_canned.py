"""Canned responses: placeholder filling without template execution, team visibility, search, endpoint."""

from __future__ import annotations

import html as html_lib

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import Team, User
from accounts.roles import Role
from channels_app.models import Channel
from profiles.models import Customer
from tickets.canned import canned_for, render_canned
from tickets.models import CannedResponse, Conversation

pytestmark = pytest.mark.django_db


@pytest.fixture
def team():
    return Team.objects.create(name="Support")


@pytest.fixture
def sales():
    return Team.objects.create(name="Sales")


@pytest.fixture
def customer():
    return Customer.objects.create(name="Anna Kowalska", company="Kowalska Consulting")


@pytest.fixture
def agent(make_user, team):
    return make_user(Role.AGENT, teams=[team], username="alice", first_name="Alice", last_name="Smith")


@pytest.fixture
def conversation(team, customer):
    channel = Channel.objects.create(kind="telegram", name="Acme Bot")
    channel.teams.add(team)
    now = timezone.now()
    return Conversation.objects.create(
        customer=customer, channel=channel, subject="Hi", created_at=now, last_activity_at=now
    )


def canned(body: str, *, shortcut: str = "x", title: str = "Greeting", team=None) -> CannedResponse:
    return CannedResponse.objects.create(title=title, shortcut=shortcut, body=body, team=team)


class TestRender:
    def test_fills_whitelisted_placeholders(self, customer, agent):
        response = canned(
            "Hi {{ customer.first_name }} ({{customer.name}}, {{  customer.company }}), "
            "{{ agent.first_name }} here. — {{ agent.name }}"
        )
        assert render_canned(response, customer=customer, agent=agent) == (
            "Hi Anna (Anna Kowalska, Kowalska Consulting), Alice here. — Alice Smith"
        )

    def test_unknown_placeholders_stay_visible(self, customer, agent):
        response = canned("Order {{ order.number }} for {{ customer.email }} {{ customer.first_name|upper }}")
        assert render_canned(response, customer=customer, agent=agent) == response.body

    def test_missing_values_and_agent_without_first_name(self, make_user):
        nameless = Customer.objects.create()
        bot = make_user(Role.AGENT, username="helpdesk")
        response = canned("Hi {{ customer.first_name }}, {{ agent.first_name }}")
        assert render_canned(response, customer=nameless, agent=bot) == "Hi , helpdesk"

    @pytest.mark.parametrize(
        "body",
        [
            "{% load static %}{% debug %}",
            "{{ settings.SECRET_KEY }}",
            "{% for x in '' %}{% endfor %}{{ request }}",
            "{{ customer.__class__ }}",
            "<script>alert(1)</script>",
        ],
    )
    def test_template_syntax_is_inert(self, body, customer, agent, settings):
        response = canned(body)
        text = render_canned(response, customer=customer, agent=agent)
        assert text == body
        assert settings.SECRET_KEY not in text

    def test_values_are_not_expanded_again(self, agent):
        sneaky = Customer.objects.create(name="{{ agent.name }} {% debug %}")
        response = canned("Hi {{ customer.name }}")
        assert render_canned(response, customer=sneaky, agent=agent) == "Hi {{ agent.name }} {% debug %}"


class TestCannedFor:
    def test_own_teams_and_global_only(self, agent, team, sales):
        mine = canned("a", shortcut="mine", title="Mine", team=team)
        everyone = canned("b", shortcut="global", title="Global")
        canned("c", shortcut="theirs", title="Theirs", team=sales)
        assert list(canned_for(agent, "")) == [everyone, mine]

    def test_search_title_shortcut_and_body(self, agent):
        refund = canned("We refunded your order.", shortcut="refund", title="Refund done")
        shipping = canned("Your parcel is on its way.", shortcut="ship", title="Shipping")
        assert list(canned_for(agent, "REFUND")) == [refund]
        assert list(canned_for(agent, "/ship")) == [shipping]
        assert list(canned_for(agent, "parcel")) == [shipping]
        assert list(canned_for(agent, "nothing like it")) == []

    def test_member_of_two_teams_sees_each_once(self, agent, sales):
        agent.teams.add(sales)
        canned("a", shortcut="s1", title="Sales", team=sales)
        canned("a", shortcut="g", title="Global")
        assert canned_for(agent, "").count() == 2


class TestEndpoint:
    def url(self, conversation, q: str = "") -> str:
        return f"/inbox/{conversation.pk}/canned/" + (f"?q={q}" if q else "")

    def client(self, user) -> Client:
        client = Client()
        client.force_login(user)
        return client

    def test_lists_filled_previews_for_the_conversations_customer(self, agent, conversation, team):
        canned(
            "Hi {{ customer.first_name }}, {{ agent.first_name }} here.",
            shortcut="hi",
            title="Hello",
            team=team,
        )
        response = self.client(agent).get(self.url(conversation), headers={"HX-Request": "true"})
        assert response.status_code == 200
        body = response.content.decode()
        assert 'data-testid="canned-item"' in body
        assert "Hi Anna, Alice here." in body
        assert "/hi" in body

    def test_search(self, agent, conversation):
        canned("Refund text", shortcut="refund", title="Refund")
        canned("Shipping text", shortcut="ship", title="Shipping")
        body = self.client(agent).get(self.url(conversation, "refund")).content.decode()
        assert "Refund" in body and "Shipping" not in body
        body = self.client(agent).get(self.url(conversation, "zzz")).content.decode()
        assert 'data-testid="canned-empty"' in body and "zzz" in body

    def test_injection_is_escaped(self, agent, conversation, settings):
        canned("<script>alert(1)</script> {{ settings.SECRET_KEY }} {% load static %}", title="<b>bold</b>")
        Customer.objects.filter(pk=conversation.customer_id).update(name='<img src=x onerror="alert(1)">')
        canned("Hi {{ customer.name }}", shortcut="y", title="Hi")
        body = self.client(agent).get(self.url(conversation)).content.decode()
        assert "<script>" not in body
        assert "<b>bold</b>" not in body
        assert "<img" not in body
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
        assert settings.SECRET_KEY not in body
        assert "{{ settings.SECRET_KEY }}" in html_lib.unescape(body)
        assert "{% load static %}" in html_lib.unescape(body)

    def test_invisible_conversation_is_404(self, make_user, sales, conversation):
        outsider = make_user(Role.AGENT, teams=[sales], username="olga")
        assert self.client(outsider).get(self.url(conversation)).status_code == 404
        assert self.client(outsider).get("/inbox/999999/canned/").status_code == 404

    def test_manager_sees_every_conversation(self, manager, conversation):
        assert self.client(manager).get(self.url(conversation)).status_code == 200

    def test_anonymous_and_post(self, agent, conversation):
        assert Client().get(self.url(conversation)).status_code == 302
        assert self.client(agent).post(self.url(conversation)).status_code == 405


@pytest.mark.parametrize("model", ["cannedresponse", "assignmentrule"])
def test_admin_pages(model, team):
    root = User.objects.create_superuser(username="root", password="x" * 20, email="root@example.com")
    client = Client()
    client.force_login(root)
    canned("Hi", shortcut="hi", title="Hello", team=team)
    for url in (f"/admin/tickets/{model}/", f"/admin/tickets/{model}/add/"):
        assert client.get(url).status_code == 200, url

    def test_the_reply_box_offers_the_picker_and_its_items_carry_the_filled_text(
        self, agent, conversation, team
    ):
        canned("Hi {{ customer.first_name }}!", shortcut="hi", title="Hello", team=team)
        page = self.client(agent).get(f"/inbox/{conversation.pk}/").content.decode()
        assert 'data-testid="canned-picker"' in page
        assert f'hx-get="/inbox/{conversation.pk}/canned/"' in page
        items = (
            self.client(agent).get(self.url(conversation), headers={"HX-Request": "true"}).content.decode()
        )
        assert 'data-canned-text="Hi ' in items
