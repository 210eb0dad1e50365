"""The inbox header and the survey pages at 1280x720 in English, Polish and Russian: Polish and Russian
labels run longer, and nothing may end up hidden, cut or lying under something else."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Team, User
from accounts.roles import Role
from channels_app.services import do_create_channel
from profiles.models import Customer, Segment
from surveys.models import Survey, SurveyKind
from tests.browser.conftest import screenshot_path
from tests.browser.session import sign_in
from tickets.models import Conversation, Direction, Label, Message

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LANGUAGES = ["en", "pl", "ru"]
LONG_SURVEY_NAME = {
    "en": "Customer satisfaction after a support conversation with the returns and complaints team",
    "pl": "Zadowolenie klientów po rozmowie z zespołem obsługi zwrotów i reklamacji w sezonie świątecznym",
    "ru": "Удовлетворённость клиентов после обращения в службу поддержки по возвратам и претензиям",
}

# Runs in the page: for each control, what a person would notice — not rendered, outside the window,
# clipped by a scrolling or overflow-hidden ancestor, covered by another element, or a select whose
# chosen text is wider than the box that shows it.
PROBLEMS_JS = """
(selectors) => {
  const problems = [];
  const viewportWidth = document.documentElement.clientWidth;
  const canvas = document.createElement("canvas").getContext("2d");
  const name = (el) => (el.getAttribute("data-status-tab") || el.name || el.textContent || el.outerHTML)
    .trim().slice(0, 40);
  const controls = selectors.flatMap((s) => Array.from(document.querySelectorAll(s)));
  if (!controls.length) problems.push("no controls found");
  const rects = controls.map((el) => el.getBoundingClientRect());
  controls.forEach((el, i) => {
    const r = rects[i];
    const style = getComputedStyle(el);
    if (!r.width || !r.height || style.visibility !== "visible" || style.display === "none") {
      problems.push(`${name(el)}: not visible`);
      return;
    }
    if (r.left < 0 || r.right > viewportWidth + 0.5) problems.push(`${name(el)}: outside the window`);
    for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
      const s = getComputedStyle(a);
      if (s.overflowX === "visible" && s.overflowY === "visible") continue;
      // Content is clipped at the padding box: inside the borders.
      const b = a.getBoundingClientRect();
      const ar = { left: b.left + a.clientLeft, top: b.top + a.clientTop };
      ar.right = ar.left + a.clientWidth;
      ar.bottom = ar.top + a.clientHeight;
      const outside = r.left < ar.left - 0.5 || r.right > ar.right + 0.5
        || r.top < ar.top - 0.5 || r.bottom > ar.bottom + 0.5;
      if (outside) {
        problems.push(`${name(el)}: clipped by ${a.className || a.tagName}`);
      }
    }
    controls.forEach((other, j) => {
      if (j <= i || other.contains(el) || el.contains(other)) return;
      const o = rects[j];
      const w = Math.min(r.right, o.right) - Math.max(r.left, o.left);
      const h = Math.min(r.bottom, o.bottom) - Math.max(r.top, o.top);
      if (w > 0.5 && h > 0.5) problems.push(`${name(el)} overlaps ${name(other)}`);
    });
    const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
    if (hit && hit !== el && !el.contains(hit) && !hit.contains(el)) {
      problems.push(`${name(el)}: covered by ${hit.className || hit.tagName}`);
    }
    if (el.tagName === "SELECT") {
      const option = el.options[el.selectedIndex];
      canvas.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
      const text = canvas.measureText(option ? option.text : "").width;
      const room = el.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
      if (text > room + 0.5) {
        problems.push(`${name(el)}: "${option.text}" cut (${Math.round(text)} > ${Math.round(room)})`);
      }
    }
  });
  return problems;
}
"""

INBOX_HEADER = [
    '[data-testid="status-tabs"] a',
    '[data-testid="inbox-toolbar"] select[name="sort"]',
    '[data-testid="save-view"] > summary',
    '[data-testid="inbox-filters"] select',
    '[data-testid="inbox-filters"] a',
    '[data-testid="inbox-search"] input[type="search"]',
    '[data-testid="inbox-search"] button',
]


@pytest.fixture
def localized_page(chromium_browser, request):
    """A browser that asks for the page's language, as its users' browsers do. (Chromium draws date
    fields in its own UI language, en-US here: with AM/PM, the widest of the three formats.)"""
    language = request.node.callspec.params["language"]
    locale = {"en": "en-US", "pl": "pl-PL", "ru": "ru-RU"}[language]
    context = chromium_browser.new_context(viewport={"width": 1280, "height": 720}, locale=locale)
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page
    context.close()


@pytest.fixture
def workspace(db) -> User:
    """An inbox with every filter on show (teams, labels, segments) and names as long as real ones."""
    now = timezone.now()
    support = Team.objects.create(name="Obsługa klienta PL")
    billing = Team.objects.create(name="Billing and invoices")
    admin = User.objects.create(
        username="admin-layout", first_name="Małgorzata", last_name="Wiśniewska-Grzybowska", role=Role.ADMIN
    )
    admin.teams.set([support, billing])
    colleague = User.objects.create(
        username="kon", first_name="Konstantin", last_name="Wasiljew", role=Role.AGENT
    )
    colleague.teams.set([support])
    channels = [
        do_create_channel(kind="email", name="Support mailbox"),
        do_create_channel(kind="telegram", name="Acme Telegram Bot"),
        do_create_channel(kind="whatsapp", name="Acme WhatsApp Business"),
    ]
    for channel in channels:
        channel.teams.set([support])
    labels = [
        Label.objects.create(name=name, color=color)
        for name, color in [("refund", "orange"), ("vip", "purple"), ("delivery delay", "amber")]
    ]
    Segment.objects.create(name="VIP customers in Poland", definition=[])
    for i, (status, priority) in enumerate(
        [
            ("open", "high"),
            ("pending", "normal"),
            ("snoozed", "low"),
            ("resolved", "urgent"),
            ("open", "normal"),
        ]
    ):
        at = now - timedelta(hours=i * 5)
        conversation = Conversation.objects.create(
            customer=Customer.objects.create(name=f"Anna Kowalska {i}"),
            channel=channels[i % len(channels)],
            subject=f"Zamówienie nr 5093{i} nie dotarło",
            status=status,
            priority=priority,
            assignee=[admin, colleague, None][i % 3],
            created_at=at - timedelta(hours=1),
            last_activity_at=at,
        )
        conversation.labels.set(labels[: i % 3])
        Message.objects.create(
            conversation=conversation,
            channel=conversation.channel,
            direction=Direction.INBOUND,
            body="Gdzie jest moja przesyłka? Czekam już tydzień.",
            created_at=at,
        )
    return admin


def _open(page, base: str, user: User, language: str, path: str) -> None:
    User.objects.filter(pk=user.pk).update(language=language)
    sign_in(page, base, user)
    page.goto(f"{base}{path}")
    page.wait_for_load_state("networkidle")
    assert page.locator("html").get_attribute("lang") == language


def _problems(page, selectors: list[str]) -> list[str]:
    return page.evaluate(PROBLEMS_JS, selectors)


@pytest.mark.parametrize("language", LANGUAGES)
def test_inbox_tabs_and_filters_are_whole_at_1280(live_server, localized_page, workspace, language):
    page = localized_page
    _open(page, live_server.url, workspace, language, "/inbox/")
    page.screenshot(path=str(screenshot_path(f"layout-inbox-{language}.png")))
    assert _problems(page, INBOX_HEADER) == []

    # The longest choices, picked: each select still shows its whole text.
    selects = page.locator(
        '[data-testid="inbox-filters"] select, [data-testid="inbox-toolbar"] select[name="sort"]'
    )
    for select in selects.all():
        longest = select.evaluate(
            "(s) => Array.from(s.options).reduce((a, b) => (b.text.length > a.text.length ? b : a)).value"
        )
        with page.expect_navigation():
            select.select_option(longest)
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(screenshot_path(f"layout-inbox-filtered-{language}.png")))
    assert _problems(page, INBOX_HEADER) == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_survey_pages_keep_titles_and_setup_readable_at_1280(
    live_server, localized_page, workspace, language
):
    page = localized_page
    now = timezone.now()
    survey = Survey.objects.create(
        kind=SurveyKind.NPS,
        name=LONG_SURVEY_NAME[language],
        starts_at=now - timedelta(days=3),
        ends_at=now + timedelta(days=60),
        question={"en": "How likely are you to recommend us to a friend or colleague?"},
        followup_team=Team.objects.first(),
    )

    _open(page, live_server.url, workspace, language, f"/surveys/{survey.pk}/")
    page.screenshot(path=str(screenshot_path(f"layout-survey-detail-{language}.png")), full_page=True)
    assert _header_problems(page) == []
    assert _setup_problems(page) == []

    _open(page, live_server.url, workspace, language, f"/surveys/{survey.pk}/edit/")
    page.screenshot(path=str(screenshot_path(f"layout-survey-form-{language}.png")), full_page=True)
    assert _header_problems(page) == []
    assert _date_input_problems(page) == []


def _header_problems(page) -> list[str]:
    """The title may wrap or ellipsize, but never run under the buttons beside it."""
    return page.evaluate(
        """() => {
          const title = document.querySelector(".page-header h1").getBoundingClientRect();
          const problems = [];
          document.querySelectorAll(".page-actions > *").forEach((el) => {
            const r = el.getBoundingClientRect();
            const w = Math.min(r.right, title.right) - Math.max(r.left, title.left);
            const h = Math.min(r.bottom, title.bottom) - Math.max(r.top, title.top);
            if (w > 0.5 && h > 0.5) problems.push(`title under ${el.textContent.trim()}`);
            const right = document.documentElement.clientWidth;
            if (r.right > right + 0.5) problems.push(`${el.textContent.trim()} outside`);
          });
          return problems;
        }"""
    )


def _setup_problems(page) -> list[str]:
    """Every term and value of the Setup card on its own ground, none cut."""
    return page.evaluate(
        """() => {
          const cells = Array.from(document.querySelectorAll('[data-testid="survey-setup"] :is(dt, dd)'));
          const problems = [];
          if (!cells.length) return ["no setup list"];
          const rects = cells.map((c) => c.getBoundingClientRect());
          cells.forEach((c, i) => {
            if (c.scrollWidth > c.clientWidth + 1) problems.push(`${c.textContent.trim()}: cut`);
            cells.forEach((d, j) => {
              if (j <= i) return;
              const a = rects[i], b = rects[j];
              const w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
              const h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
              const both = `${c.textContent.trim()} / ${d.textContent.trim()}`;
              if (w > 0.5 && h > 0.5) problems.push(`overlap: ${both}`);
            });
          });
          return problems;
        }"""
    )


def _date_input_problems(page) -> list[str]:
    """The period's inputs show the whole localized date and match the text inputs beside them."""
    return page.evaluate(
        """() => {
          const problems = [];
          const name = document.querySelector('input[name="name"]');
          document.querySelectorAll('input[name="starts_at"], input[name="ends_at"]').forEach((input) => {
            if (input.scrollWidth > input.clientWidth + 1) problems.push(`${input.name}: date cut`);
            const a = getComputedStyle(input), b = getComputedStyle(name);
            for (const key of ["height", "borderTopWidth", "borderRadius", "fontSize", "paddingLeft"]) {
              if (a[key] !== b[key]) problems.push(`${input.name}: ${key} ${a[key]} != ${b[key]}`);
            }
          });
          return problems;
        }"""
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_settings_sections_are_whole_on_the_privacy_pages(live_server, localized_page, workspace, language):
    page = localized_page
    for path, section in [("/settings/", "general"), ("/customers/audit/", "audit")]:
        _open(page, live_server.url, workspace, language, path)
        assert page.locator(f'[data-settings-nav="{section}"]').get_attribute("aria-current") == "page"
        assert _problems(page, ['[data-testid="settings-nav"] a']) == []
    page.screenshot(path=str(screenshot_path(f"layout-audit-log-{language}.png")))
