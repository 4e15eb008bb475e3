"""Letters: XSL only on GET one, PUT in XML only."""

from __future__ import annotations

from xml.sax.saxutils import escape

from almasync.emulator.seed import builtin_seed
from tests.emulator.conftest import Api, EmulatorFactory, assert_error

LETTER = "/conf/letters/FulfillmentActivityLetter"
XML = {"Content-Type": "application/xml"}


def test_letter_list_has_no_xsl(api: Api) -> None:
    letters = api.get("/conf/letters").json()["letter"]
    codes = [letter["code"] for letter in letters]
    assert codes == [
        "FulfillmentActivityLetter",
        "LoanStatusNoticeLetter",
        "GeneralMessageEmailLetter",
    ]
    assert all("xsl" not in letter for letter in letters)
    components = api.get("/conf/letters", params={"type": "COMPONENT"}).json()["letter"]
    assert [c["code"] for c in components] == ["header.xsl", "footer.xsl"]
    assert_error(api.get("/conf/letters", params={"type": "OTHER"}), 400, "40166410")


def test_letter_get_has_xsl_and_wrapped_booleans(api: Api) -> None:
    letter = api.get(LETTER).json()
    assert isinstance(letter["xsl"], str) and "<xsl:stylesheet" in letter["xsl"]
    # Alma sends letter flags as strings (FACTS section 8).
    assert letter["enabled"] == {"value": "true", "desc": "Yes"}
    assert letter["customized"] == {"value": "false", "desc": "No"}
    assert letter["patron_facing"] == {"value": "true", "desc": "Yes"}
    assert letter["labels"] == {
        "value": "FulfillmentActivityLetter",
        "link": api.url("/conf/code-tables/FulfillmentActivityLetter"),
    }
    assert api.get("/conf/code-tables/FulfillmentActivityLetter").status_code == 200


def test_letter_put_json_is_refused(api: Api) -> None:
    letter = api.get(LETTER).json()
    response = api.put(LETTER, json=letter)
    assert_error(response, 400, "60105")
    assert (
        response.json()["errorList"]["error"][0]["errorMessage"]
        == "JSON is not supported for this API."
    )


def _xml(code: str, xsl: str, enabled: str = "true", description: str = "") -> str:
    return (
        f"<letter><code>{code}</code><enabled>{enabled}</enabled>"
        f"<description>{escape(description)}</description><channel>EMAIL</channel>"
        f"<xsl>{escape(xsl)}</xsl></letter>"
    )


def test_letter_put_xml_answers_json(api: Api) -> None:
    before = api.get(LETTER).json()
    xsl = before["xsl"].replace("@@header@@", "@@header@@ (updated)")
    response = api.put(
        LETTER, data=_xml("FulfillmentActivityLetter", xsl, "false", "Ignored text"), headers=XML
    )
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json;charset=UTF-8"
    after = api.get(LETTER).json()
    assert after == response.json()
    assert after["xsl"] == xsl
    assert after["enabled"] == {"value": "false", "desc": "No"}
    assert after["customized"] == {"value": "true", "desc": "Yes"}
    assert after["description"] == before["description"]


def test_letter_put_with_cdata_and_xml_answer(api: Api) -> None:
    body = "<letter><enabled>true</enabled><xsl><![CDATA[<xsl:stylesheet/>]]></xsl></letter>"
    response = api.put(LETTER, data=body, headers={**XML, "Accept": "application/xml"})
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/xml")
    assert api.get(LETTER).json()["xsl"] == "<xsl:stylesheet/>"


def test_letter_put_replaces_whole_letter(api: Api) -> None:
    customized = "/conf/letters/LoanStatusNoticeLetter"
    assert api.get(customized).json()["customized"]["value"] == "true"
    response = api.put(customized, data="<letter><enabled>true</enabled></letter>", headers=XML)
    assert response.status_code == 200
    assert response.json()["customized"] == {"value": "false", "desc": "No"}
    assert "@@due_date@@" not in response.json()["xsl"]


def test_letter_put_errors(api: Api) -> None:
    assert_error(api.put("/conf/letters/Nope", data="<letter/>", headers=XML), 400, "40166411")
    assert_error(api.put(LETTER, data="<letter><xsl>", headers=XML), 400, "402119")
    assert_error(api.put(LETTER, data="<notaletter/>", headers=XML), 400, "40166411")


def test_letter_put_rejects_xml_bombs(api: Api) -> None:
    bomb = '<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaa">]><letter><xsl>&a;</xsl></letter>'
    assert_error(api.put(LETTER, data=bomb, headers=XML), 400, "402119")


def test_a_letter_listed_twice(make_emulator: EmulatorFactory) -> None:
    """Alma's list may name a letter twice (FACTS section 8); a seed can ask for that."""
    seed = builtin_seed("demo")
    seed["letters"]["LoanStatusNoticeLetter"]["listed_twice"] = True
    api = Api(make_emulator(seed))
    body = api.get("/conf/letters").json()
    codes = [letter["code"] for letter in body["letter"]]
    assert codes.count("LoanStatusNoticeLetter") == 2 and len(codes) == 4
    assert body["total_record_count"] == 4
