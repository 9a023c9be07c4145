"""The case and archive forms take what recognition needs (rigid spending, compensation, the category's reason, the
exclusions) and say what `document` will need: the papers every case needs, those some households need and when,
stars on the fields it needs, and for a saved draft what it still lacks, in the rules' own words."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from workflows.models import Case

from .test_case_form import filled, submitted, text_of


def test_the_new_form_says_what_document_will_need(pages, world, cadre):
    page = text_of(pages.as_(cadre).get("/cases/new"))
    needs = page[page.index('id="document-needs"'):]
    needs = needs[:needs.index("</section>")]
    assert "每份申请都需要：困难职工档案（加盖基层工会章）、个人救助申请报告、户口本、身份证复印件、困难职工相关证明、" \
           "家庭经济状况核对授权书" in needs
    assert "致困原因含子女上学，或填写了就学支出：子女入学证明、学费缴费凭证" in needs
    assert "困难农民工：劳动合同" in needs and "医疗救助案件：县级以上医院重大疾病证明、近两年住院结算单" in needs
    # The inputs document needs are starred; the reason and the exclusions are offered.
    assert 'for="applicant.phone">联系电话<span class="needed"' in page
    assert 'for="household.housing">住房情况<span class="needed"' in page
    assert 'for="household.spending.illness">医疗支出（元/年）</label>' in page
    assert 'name="exclusions" value="private_car"> 拥有非生产经营用机动车' in page


def test_recognition_fields_are_saved_and_shown_again(pages, world, cadre):
    campaign = world.default_campaign()
    client = pages.as_(cadre)
    response = client.post("/cases/new", filled(campaign, **{
        "household.spending.illness": "6000", "household.spending.schooling": "2400",
        "household.compensation": "1200", "category_reason": "配偶长期住院，收入不稳定",
        "exclusions": ["private_car"]}))
    assert response.status_code == 302, text_of(response)[:500]
    case = world.session.scalars(select(Case).where(Case.campaign_id == campaign.id)).one()
    assert (case.spending_illness, case.spending_schooling, case.compensation) == (
        Decimal("6000"), Decimal("2400"), Decimal("1200"))
    assert case.category_reason == "配偶长期住院，收入不稳定" and case.exclusions == ["private_car"]
    assert case.archive.exclusions == ["private_car"] and case.archive.spending_illness == Decimal("6000")

    edit = text_of(client.get(f"/cases/{case.id}/edit"))
    fields = submitted(edit)
    assert fields["household.spending.illness"] == "6000.00" and fields["exclusions"] == "private_car"
    assert fields["category_reason"] == "配偶长期住院，收入不稳定"
    # What the saved draft still lacks, as the case page's button says it.
    needs = edit[edit.index('id="document-needs"'):]
    assert "不予建档：拥有非生产经营用机动车" in needs and "缺少：" in needs


def test_a_wrong_amount_comes_back_beside_its_input(pages, world, cadre):
    campaign = world.default_campaign()
    response = pages.as_(cadre).post("/cases/new", filled(campaign, **{"household.spending.disability": "很多"}))
    assert response.status_code == 400
    page = text_of(response)
    assert 'id="household.spending.disability-error">应为数字' in page
    assert '<a href="#household.spending.disability">残疾支出（元/年）</a>：应为数字' in page
    assert world.session.scalars(select(Case)).first() is None


def test_the_archive_form_takes_them_too(pages, world, cadre):
    page = text_of(pages.as_(cadre).get("/archives/new"))
    assert 'name="household.compensation"' in page and 'name="category_reason"' in page
    assert 'name="exclusions" value="multiple_homes"' in page
