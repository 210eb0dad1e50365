"""Saved inbox views: saving, sharing, renaming, reordering, deleting, and that a view never shows
more than its user may see."""

from __future__ import annotations

import re

import pytest

from tests.tickets import test_inbox_list as base
from tests.tickets.test_inbox_list import client_for, ids, make_conversation, row_ids
from tickets import saved_views
from tickets import selectors_inbox as inbox_q
from tickets.models import SavedView, SavedViewVisibility

world = base.world  # the same teams, channels and people as the basic list tests
SAVED_RE = re.compile(r'data-saved-view="(\d+)"')


def saved_in_sidebar(client) -> list[int]:
    return [int(pk) for pk in SAVED_RE.findall(client.get("/inbox/").content.decode())]


def make_view(owner, name="Mine open", params=None, **fields) -> SavedView:
    return SavedView.objects.create(owner=owner, name=name, params=params or {"status": "open"}, **fields)


# ---- Saving ----------------------------------------------------------------------------------------


def test_agent_saves_the_current_filters_and_opens_them_again(world):
    agent = world["agent_a"]
    wanted = make_conversation(world["channel_a"], minutes=1, priority="high", status="pending")
    make_conversation(world["channel_a"], minutes=2, priority="high")
    make_conversation(world["channel_a"], minutes=3, status="pending")
    client = client_for(agent)

    response = client.post(
        "/inbox/views/",
        {"name": "  Hot   pending ", "query": "status=pending&priority=high&sort=waiting&cursor=1_2&bogus=1"},
    )
    view = SavedView.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/inbox/?saved={view.pk}"
    assert (view.owner, view.name, view.visibility, view.team) == (agent, "Hot pending", "private", None)
    # Only what the inbox understands is kept, in canonical form.
    assert view.params == {"status": "pending", "priority": "high", "sort": "waiting"}

    page = client.get(f"/inbox/?saved={view.pk}")
    assert row_ids(page) == ids(wanted)
    html = page.content.decode()
    assert f'data-saved-view="{view.pk}" aria-current="page"' in html
    assert 'data-view="all" aria-current' not in html  # the saved view is the current one, not All
    assert 'data-testid="saved-view-bar"' in html and "Hot pending" in html
    assert 'data-testid="saved-view-changed"' not in html


def test_links_on_a_saved_view_carry_the_whole_query(world):
    """Clearing a filter back to its default must not bring the saved value back."""
    agent = world["agent_a"]
    open_one = make_conversation(world["channel_a"], minutes=1)
    pending = make_conversation(world["channel_a"], minutes=2, status="pending")
    view = make_view(agent, params={"status": "pending"})
    client = client_for(agent)

    html = client.get(f"/inbox/?saved={view.pk}").content.decode()
    all_tab = re.search(r'href="([^"]+)" data-status-tab="all"', html).group(1).replace("&amp;", "&")
    assert f"saved={view.pk}" in all_tab and "view=all" in all_tab
    page = client.get(all_tab)
    assert row_ids(page) == ids(pending, open_one)
    html = page.content.decode()
    assert f'data-saved-view="{view.pk}" aria-current="page"' in html
    assert 'data-testid="saved-view-changed"' in html and 'data-testid="saved-view-update"' in html
    # The filter form keeps the view along too, so its submit is the whole query.
    assert '<input type="hidden" name="view" value="all">' in html
    assert f'<input type="hidden" name="saved" value="{view.pk}">' in html


def test_update_rename_move_and_delete_own_views(world):
    agent = world["agent_a"]
    first = make_view(agent, "First", position=0)
    second = make_view(agent, "Second", position=1)
    client = client_for(agent)

    client.post(f"/inbox/views/{first.pk}/", {"action": "filters", "query": "priority=urgent&view=mine"})
    first.refresh_from_db()
    assert first.params == {"priority": "urgent", "view": "mine"}

    client.post(f"/inbox/views/{first.pk}/", {"name": "Urgent mine", "visibility": "private"})
    first.refresh_from_db()
    assert first.name == "Urgent mine" and first.params == {"priority": "urgent", "view": "mine"}

    assert saved_in_sidebar(client) == ids(first, second)
    client.post(f"/inbox/views/{first.pk}/move/", {"to": "down"})
    assert saved_in_sidebar(client) == ids(second, first)
    client.post(f"/inbox/views/{first.pk}/move/", {"to": "down"})  # already last: nothing moves
    assert saved_in_sidebar(client) == ids(second, first)

    response = client.post(f"/inbox/views/{second.pk}/delete/")
    assert response.status_code == 302 and response["Location"] == "/inbox/"
    assert list(SavedView.objects.all()) == [first]


def test_names_are_checked(world):
    agent = world["agent_a"]
    make_view(agent, "Taken")
    client = client_for(agent)
    for name in ("", "   ", "x" * 81, "Taken"):
        response = client.post("/inbox/views/", {"name": name, "query": "status=open"}, follow=True)
        assert response.status_code == 200
        assert "toast--error" in response.content.decode(), name
    assert SavedView.objects.count() == 1
    view = make_view(agent, "Other")
    client.post(f"/inbox/views/{view.pk}/", {"name": "Taken"})
    view.refresh_from_db()
    assert view.name == "Other"


def test_only_the_owner_changes_a_view_even_a_shared_one(world):
    shared = make_view(world["manager"], "Everyone's", visibility=SavedViewVisibility.EVERYONE)
    client = client_for(world["agent_a"])
    assert shared.pk in saved_in_sidebar(client)
    assert client.post(f"/inbox/views/{shared.pk}/", {"name": "Mine now"}).status_code == 404
    assert client.post(f"/inbox/views/{shared.pk}/move/", {"to": "up"}).status_code == 404
    assert client.post(f"/inbox/views/{shared.pk}/delete/").status_code == 404
    shared.refresh_from_db()
    assert shared.name == "Everyone's"
    html = client.get(f"/inbox/?saved={shared.pk}").content.decode()
    assert 'data-testid="saved-view-delete"' not in html and "Shared by" in html


def test_views_need_post_and_login(world, client):
    view = make_view(world["agent_a"])
    assert client.post("/inbox/views/", {"name": "x"}).status_code == 302  # to the login page
    assert client_for(world["agent_a"]).get(f"/inbox/views/{view.pk}/delete/").status_code == 405


# ---- Sharing ---------------------------------------------------------------------------------------


def test_agents_cannot_share_managers_can(world):
    client = client_for(world["agent_a"])
    client.post("/inbox/views/", {"name": "Team", "visibility": "team", "team": world["team_a"].pk})
    client.post("/inbox/views/", {"name": "All", "visibility": "everyone"})
    assert not SavedView.objects.exists()
    assert 'name="visibility" value="team"' not in client.get("/inbox/").content.decode()

    manager = client_for(world["manager"])
    assert 'name="visibility" value="team"' in manager.get("/inbox/").content.decode()
    manager.post("/inbox/views/", {"name": "Alpha queue", "visibility": "team", "team": world["team_a"].pk})
    manager.post("/inbox/views/", {"name": "Everyone", "visibility": "everyone", "team": world["team_a"].pk})
    manager.post("/inbox/views/", {"name": "No team", "visibility": "team"})
    team_view = SavedView.objects.get(name="Alpha queue")
    everyone = SavedView.objects.get(name="Everyone")
    assert (team_view.visibility, team_view.team) == ("team", world["team_a"])
    assert (everyone.visibility, everyone.team) == ("everyone", None)
    assert not SavedView.objects.filter(name="No team").exists()

    with pytest.raises(saved_views.SavedViewError):
        saved_views.do_update_saved_view(
            view=make_view(world["agent_a"]), actor=world["agent_a"], visibility="everyone"
        )


def test_who_sees_which_view(world):
    private = make_view(world["agent_a"], "Anna's")
    alpha = make_view(world["manager"], "Alpha", visibility="team", team=world["team_a"])
    bravo = make_view(world["manager"], "Bravo", visibility="team", team=world["team_b"])
    everyone = make_view(world["manager"], "All hands", visibility="everyone")

    assert set(saved_in_sidebar(client_for(world["agent_a"]))) == {private.pk, alpha.pk, everyone.pk}
    assert set(saved_in_sidebar(client_for(world["agent_a2"]))) == {alpha.pk, everyone.pk}
    assert set(saved_in_sidebar(client_for(world["agent_b"]))) == {bravo.pk, everyone.pk}
    # The author of a team view keeps seeing it (to edit it) without being in that team.
    assert set(saved_in_sidebar(client_for(world["manager"]))) == {alpha.pk, bravo.pk, everyone.pk}


# ---- Authorization ---------------------------------------------------------------------------------


def test_someone_elses_private_view_is_a_404(world):
    private = make_view(world["agent_a"], "Anna's")
    bravo = make_view(world["manager"], "Bravo", visibility="team", team=world["team_b"])
    client = client_for(world["agent_a2"])
    for view in (private, bravo):
        assert client.get("/inbox/", {"saved": view.pk}).status_code == 404
        assert client.get("/inbox/", {"saved": view.pk, "view": "all"}).status_code == 404
        assert client.get("/inbox/rows/1/", {"saved": view.pk}).status_code == 404
    assert client.get("/inbox/", {"saved": 99999}).status_code == 404


def test_a_shared_view_never_shows_more_than_its_user_may_see(world):
    alpha_conv = make_conversation(world["channel_a"], minutes=1, priority="urgent")
    bravo_conv = make_conversation(world["channel_b"], minutes=2, priority="urgent")
    # Written by a manager who sees everything, with filters naming the other team's channel.
    shared = make_view(
        world["manager"],
        "Urgent B",
        params={
            "priority": "urgent",
            "channel": str(world["channel_b"].pk),
            "view": f"channel-{world['channel_b'].pk}",
        },
        visibility="everyone",
    )
    urgent_everywhere = make_view(
        world["manager"], "Urgent", params={"priority": "urgent"}, visibility="everyone"
    )

    assert row_ids(client_for(world["manager"]).get("/inbox/", {"saved": shared.pk})) == ids(bravo_conv)
    agent = client_for(world["agent_a"])
    assert bravo_conv.pk not in row_ids(agent.get("/inbox/", {"saved": shared.pk}))
    assert row_ids(agent.get("/inbox/", {"saved": urgent_everywhere.pk})) == ids(alpha_conv)
    # Stored params are parsed again on use: a tampered row cannot smuggle anything past the filters.
    SavedView.objects.filter(pk=urgent_everywhere.pk).update(
        params={"priority": "urgent", "assignee": "1 OR 1=1"}
    )
    assert row_ids(agent.get("/inbox/", {"saved": urgent_everywhere.pk})) == ids(alpha_conv)


def test_saved_view_rows_page_and_live_rows(world):
    agent = world["agent_a"]
    conversations = [
        make_conversation(world["channel_a"], minutes=n, priority="high")
        for n in range(inbox_q.PAGE_SIZE + 2)
    ]
    make_conversation(world["channel_a"], minutes=999)
    view = make_view(agent, params={"priority": "high"})
    client = client_for(agent)
    html = client.get("/inbox/", {"saved": view.pk}).content.decode()
    more = re.search(r'hx-get="([^"]+)"', html).group(1).replace("&amp;", "&")
    rest = row_ids(client.get(more, headers={"HX-Request": "true"}))
    assert rest == ids(*conversations[:2][::-1])
    query = re.search(r'data-query="([^"]+)"', html).group(1).replace("&amp;", "&")
    assert client.get(f"/inbox/rows/{conversations[0].pk}/?{query}").status_code == 200
    other = make_conversation(world["channel_a"], minutes=1000)
    assert client.get(f"/inbox/rows/{other.pk}/?{query}").status_code == 204


def test_clean_params_keeps_only_known_valid_values():
    assert saved_views.clean_params({"status": "open", "sort": "activity", "view": "all", "x": "1"}) == {
        "status": "open"
    }
    assert saved_views.clean_params(
        {"view": "team-3", "segment": "4", "sla_state": "at_risk", "saved": "9"}
    ) == {
        "view": "team-3",
        "segment": "4",
        "sla_state": "at_risk",
    }
