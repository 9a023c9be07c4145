"""English mode is whole: the domain's refusals and field problems (written in Chinese in workflows/, marked N_)
reach an English reader in English, with English spacing and punctuation; the audit trail names people and fields
in words. The API keeps its Chinese messages (API.md: its contract is the codes)."""

from __future__ import annotations

import re

import pytest

from workflows import verbs
from workflows.actors import CONSOLE
from workflows.states import State

from .test_case_page import Page, act

# Chinese characters and the full-width punctuation of Chinese text: none may reach an English reader in a message
# of the application (names and what people typed may be Chinese).
CHINESE = re.compile(r"[\u4e00-\u9fff，；：、（）「」。]")


@pytest.fixture
def union(world):
    return world.default_union()


def english(client):
    client.client.set_cookie("lang", "en")
    return client


def test_a_refused_action_says_why_in_english(pages, world, union):
    """The four-eyes rule, on the button's hover, under it, and when the button is pressed anyway."""
    case = world.case(State.documented)
    drafter = world.person("cadre", union)
    verbs.change_role(world.session, CONSOLE, world.clock, drafter.id, "head", union.code)
    world.session.commit()
    client = english(pages.as_(drafter))

    reason = "You cannot approve a case you drafted or submitted; another head must approve it"
    page = Page(client.get(f"/cases/{case.id}"))
    assert list(page.disabled.values()) == [reason] and list(page.reasons.values()) == [reason]
    refused = act(client, case, "approve")
    assert refused.status_code == 409 and reason in Page(refused).text


def test_the_missing_documents_are_listed_in_english_words_and_punctuation(pages, world, union):
    case = world.draft()
    world.attach(case, ["application", "hardship_proof"])
    world.session.commit()

    page = Page(english(pages.as_(world.person("cadre", union))).get(f"/cases/{case.id}"))
    [reason] = page.disabled.values()
    assert reason.startswith("Missing: ") and ", " in reason and "Copies of household register and ID cards" in reason, reason
    assert not CHINESE.search(reason), reason


def test_a_form_refused_for_its_fields_names_each_problem_in_english(pages, world, union):
    """Field problems of the domain (a too-long text, a bad ID number) beside their inputs, in English; what was
    typed stays as typed."""
    client = english(pages.as_(world.person("cadre", union)))
    campaign = world.default_campaign()
    world.session.commit()
    form = client.get(f"/cases/new?campaign={campaign.id}")
    assert form.status_code == 200
    response = client.post("/cases/new", {"campaign": str(campaign.id), "applicant.name": "王建国",
                                          "applicant.id_number": "110101199001011230", "applicant.phone": "123"})
    text = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "The ID number&#39;s check digit is wrong; please check it" in text or \
        "The ID number's check digit is wrong; please check it" in text
    assert "The phone number is not valid (a mobile has 11 digits, or a landline with its area code)" in text
    assert "身份证号码校验位错误" not in text and "王建国" in text


def test_the_api_keeps_its_chinese_messages(api, world, union):
    """API.md: the API's words are Chinese whatever the caller's language; its codes are the contract."""
    case = world.case(State.documented)
    head = world.person("head", union)
    world.session.commit()
    response = api.call("POST", f"/cases/{case.id}/transitions", head,
                        json={"trigger": "approve", "version": case.version + 5},
                        headers={"Accept-Language": "en", "Cookie": "lang=en"})
    assert response.status_code == 409, response.get_data(as_text=True)
    assert re.search(r"[\u4e00-\u9fff]", response.get_json()["message"])
