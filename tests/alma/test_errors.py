"""Alma's error envelopes, as captured from the gateway, parse to code/message/trackingId."""

from __future__ import annotations

import pytest

from almasync.alma.errors import alma_error, parse_error_body
from almasync.errors import AlmaAuthError, AlmaError, AlmaQuotaError

JSON_ERROR = (b'{"errorsExist": true, "errorList": {"error": [{"errorCode": "401664", '
              b'"errorMessage": "Mandatory field is missing: library", "trackingId": '
              b'"E01-2807130310-LFIHK-AWAE210516550"}]}, "result": null}')
WRAPPED = (b'{"web_service_result": {"errorList": {"error": {"errorMessage": "Bad thing", '
           b'"errorCode": "GENERAL_ERROR"}}}}')
XML_ERROR = (b'<?xml version="1.0" encoding="utf-8" standalone="yes"?><web_service_result '
             b'xmlns="http://com/exlibris/urm/general/xmlbeans"><errorsExist>true</errorsExist>'
             b'<errorList><error><errorCode>UNAUTHORIZED</errorCode><errorMessage>API-key not '
             b'defined or not configured to allow this API.</errorMessage><trackingId>E02-1'
             b'</trackingId></error></errorList></web_service_result>')


@pytest.mark.parametrize(("content_type", "body", "expected"), [
    ("application/json;charset=UTF-8", JSON_ERROR,
     ("401664", "Mandatory field is missing: library", "E01-2807130310-LFIHK-AWAE210516550")),
    ("application/json", WRAPPED, ("GENERAL_ERROR", "Bad thing", None)),
    ("application/xml;charset=UTF-8", XML_ERROR,
     ("UNAUTHORIZED", "API-key not defined or not configured to allow this API.", "E02-1")),
    ("application/json", XML_ERROR,
     ("UNAUTHORIZED", "API-key not defined or not configured to allow this API.", "E02-1")),
    ("text/plain", b"Gateway Timeout", ("HTTP", "Gateway Timeout", None)),
    ("text/html", b"", ("HTTP", "(empty body)", None)),
    ("application/xml", b"<html><body>401</body></html>", ("HTTP", "<html><body>401</body></html>",
                                                            None)),
])
def test_parse_error_body(content_type: str, body: bytes,
                          expected: tuple[str, str, str | None]) -> None:
    assert parse_error_body(content_type, body) == expected


def test_error_classes() -> None:
    assert isinstance(alma_error(400, "application/xml", XML_ERROR, "GET", "/x"), AlmaAuthError)
    assert isinstance(alma_error(403, "text/plain", b"no", "GET", "/x"), AlmaAuthError)
    threshold = (b'{"errorsExist":true,"errorList":{"error":[{"errorCode":"DAILY_THRESHOLD",'
                 b'"errorMessage":"Daily threshold reached"}]},"result":null}')
    assert isinstance(alma_error(429, "application/json", threshold, "GET", "/x"),
                      AlmaQuotaError)
    plain = alma_error(400, "application/json", JSON_ERROR, "POST", "/conf/x")
    assert type(plain) is AlmaError
    assert plain.code == "401664" and plain.tracking_id.startswith("E01")
    assert str(plain).startswith("POST /conf/x: Alma error 401664 (HTTP 400)")


def test_xml_bombs_are_refused() -> None:
    bomb = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
            b'<!ENTITY lol2 "&lol;&lol;&lol;">]><web_service_result>&lol2;</web_service_result>')
    assert parse_error_body("application/xml", bomb)[0] == "HTTP"
