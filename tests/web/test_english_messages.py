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


# ------------------------------------------------------------------ the case form: its live check and its warnings

NAME = "王建国"  # what the cadre typed: it may be Chinese on an English screen


def no_chinese_but_typed(text: str, *typed: str) -> bool:
    for value in typed:
        text = text.replace(value, "")
    return not CHINESE.search(text)


def test_the_live_check_names_what_is_missing_and_warns_of_the_account_in_english(pages, world, cadre):
    """cases.check_new and cases.check, as the form asks while the cadre types: the inputs still empty, the papers
    not uploaded, the warning beside an account that is not ICBC's; in the JSON and in the HTML the form shows."""
    from .test_case_form_check import NOT_ICBC

    client = english(pages.as_(cadre))
    campaign = str(world.default_campaign().id)
    live = client.post("/cases/new/check", {"campaign": campaign, "applicant.name": NAME, "bank_account": NOT_ICBC})
    assert live.status_code == 200, live.get_data(as_text=True)[:300]
    needs = live.get_json()

    assert "Copies of household register and ID cards" in needs["documents"], needs["documents"]
    assert needs["warnings"]["bank_account"].startswith("This does not look like an ICBC card number"), needs
    assert "622202, 621226, 620200" in needs["warnings"]["bank_account"]
    assert "Not filled in" in [item["message"] for item in needs["fields"]]
    words = [*needs["documents"], *needs["warnings"].values(), *needs["others"],
             *(item[key] for item in needs["fields"] for key in ("label", "message"))]
    assert all(no_chinese_but_typed(word) for word in words), words
    html = needs["html"]
    assert "Missing: " in html and "Copies of household register and ID cards" in html
    assert no_chinese_but_typed(html), CHINESE.findall(html)

    case = world.draft()
    world.session.commit()
    saved = client.post(f"/cases/{case.id}/check", {"bank_account": NOT_ICBC})
    assert saved.status_code == 200, saved.get_data(as_text=True)[:300]
    needs = saved.get_json()
    assert needs["documents"] and all(no_chinese_but_typed(label) for label in needs["documents"]), needs
    assert "Missing: " in needs["html"] and "Upload now" in needs["html"]
    assert no_chinese_but_typed(needs["html"]), CHINESE.findall(needs["html"])
    assert needs["warnings"]["bank_account"].startswith("This does not look like an ICBC card number")


def test_a_save_with_warnings_flashes_them_in_english_only(pages, world, cadre):
    """Saved all the same, but the amount is over the campaign's cap and the account does not look like ICBC's:
    each warning is flashed in English, and the form shows it again in English beside its input."""
    from .test_case_form import filled, flashes, text_of
    from .test_case_form_check import NOT_ICBC

    campaign = world.campaign(cap_per_payment="1000")
    world.session.commit()
    client = english(pages.as_(cadre))
    saved = client.post("/cases/new", filled(campaign, **{"aid.amount": "1500", "bank_account": NOT_ICBC}))
    assert saved.status_code == 302, saved.get_data(as_text=True)[:500]

    messages = flashes(client)
    assert any(m.startswith("Aid amount: ") and "1,500.00" in m and "1,000.00" in m for m in messages), messages
    assert any(m.startswith("ICBC account number: This does not look like an ICBC card number") for m in messages)
    assert all(no_chinese_but_typed(message, NAME) for message in messages), messages

    edit = text_of(client.get(saved.headers["Location"].replace("#", "?#").split("?")[0] + "/edit"))
    warnings = re.findall(r'<span class="field-warning"[^>]*>([^<]*)</span>', edit)
    assert len([w for w in warnings if w.strip()]) == 2, warnings
    assert all(no_chinese_but_typed(warning) for warning in warnings), warnings


def test_the_trail_shows_codes_and_times_in_english(pages, world, union):
    """A case's history: what a code was changed to (a category, a worker group, a yes or no) by its English
    label, and a moment in Beijing time said in English; the trail itself keeps its Chinese words."""
    case = world.case(State.entered)
    world.session.commit()
    page = Page(english(pages.as_(world.person("auditor"))).get(f"/audit/cases/{case.id}")).text
    assert "(Beijing time)" in page and "北京时间" not in page
    for chinese in ("困难职工", "深度困难", "相对困难", "送资金"):  # the labels of the codes the factory's case holds
        assert f"→ {chinese}<" not in page, chinese  # (a paper's name, kept as written, may hold the words)
