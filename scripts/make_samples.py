"""Regenerate the bundled sample evidence in diag/samples/ (run from the repo root: python scripts/make_samples.py).

The story, a common ticket: the customer re-created the Atlan app in Okta. Okta now signs with the new app's key and
issues as the new app, but Atlan still holds the old app's metadata; and the new app maps `given_name` instead of
`firstName`. The user clicks the Atlan tile in the Okta dashboard (IdP-initiated) and Atlan shows "Invalid requester".
Keys are generated on each run; nothing here is a real customer's data.
"""
from __future__ import annotations

import base64
import datetime as dt
import json
import sys
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.idp import TestIdP  # noqa: E402  (the same test IdP the suite uses)

OUT = ROOT / "diag" / "samples"
CAPTURED = dt.datetime(2026, 11, 20, 9, 14, 5, tzinfo=dt.timezone.utc)
ATLAN = "https://acme.atlan.com"
ACS = f"{ATLAN}/auth/realms/default/broker/okta/endpoint"
OLD_APP, NEW_APP = "http://www.okta.com/exk1oldapp0000000000", "http://www.okta.com/exk9newapp1111111111"


def _time(t: dt.datetime) -> str:
    return t.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _entry(t: dt.datetime, method: str, url: str, status: int, *, post: dict | None = None, location: str = "",
           html: str = "") -> dict:
    request = {"method": method, "url": url, "httpVersion": "HTTP/1.1", "headers": [], "queryString": [],
               "cookies": [], "headersSize": -1, "bodySize": 0}
    if post is not None:
        body = urlencode(post)
        request["postData"] = {"mimeType": "application/x-www-form-urlencoded", "text": body,
                               "params": [{"name": k, "value": v} for k, v in post.items()]}
        request["bodySize"] = len(body)
    headers = [{"name": "Content-Type", "value": "text/html;charset=utf-8"}]
    if location:
        headers.append({"name": "Location", "value": location})
    return {"startedDateTime": _time(t), "time": 120.5, "request": request,
            "response": {"status": status, "statusText": "", "httpVersion": "HTTP/1.1", "headers": headers,
                         "cookies": [], "content": {"size": len(html), "mimeType": "text/html", "text": html},
                         "redirectURL": location, "headersSize": -1, "bodySize": len(html)},
            "cache": {}, "timings": {"send": 0, "wait": 100, "receive": 20}}


def main() -> None:
    old = TestIdP(entity_id=OLD_APP, key_name="sample-old", common_name="acme.okta.com",
                  cert_valid_from=dt.datetime(2023, 12, 10, tzinfo=dt.timezone.utc),
                  cert_valid_to=dt.datetime(2026, 12, 10, tzinfo=dt.timezone.utc))
    new = TestIdP(entity_id=NEW_APP, key_name="sample-new", common_name="acme.okta.com",
                  cert_valid_from=dt.datetime(2026, 11, 1, tzinfo=dt.timezone.utc),
                  cert_valid_to=dt.datetime(2036, 11, 1, tzinfo=dt.timezone.utc))
    metadata = old.metadata(sso_post="https://acme.okta.com/app/acme_atlan_1/exk1oldapp0000000000/sso/saml",
                            sso_redirect="https://acme.okta.com/app/acme_atlan_1/exk1oldapp0000000000/sso/saml")
    response = new.signed_response(
        what="assertion", destination=ACS, recipient=ACS, in_response_to=None, sc_in_response_to=None,
        audiences=[f"{ATLAN}/auth/realms/default"], issue_instant=CAPTURED - dt.timedelta(seconds=2),
        not_before=CAPTURED - dt.timedelta(minutes=5), not_on_or_after=CAPTURED + dt.timedelta(minutes=5),
        sc_not_on_or_after=CAPTURED + dt.timedelta(minutes=5), name_id="jane.doe@acme.example",
        attributes={"email": ["jane.doe@acme.example"], "given_name": ["Jane"], "lastName": ["Doe"],
                    "memberOf": ["atlan-admins", "data-stewards"]},
        response_id="id1841570377123456789", assertion_id="id1841570377987654321")
    saml_response = base64.b64encode(response).decode()
    form = (f'<html><body onload="document.forms[0].submit()"><form method="post" action="{ACS}">'
            f'<input type="hidden" name="SAMLResponse" value="{saml_response}"/></form></body></html>')
    error = ("<html><head><title>Sign in to Atlan</title></head><body><div id=\"kc-error-message\">"
             "<p class=\"instruction\">Invalid requester</p></div></body></html>")
    t = CAPTURED - dt.timedelta(seconds=6)
    entries = [
        _entry(t, "GET", "https://acme.okta.com/app/UserHome", 200, html="<html>My Apps</html>"),
        _entry(t + dt.timedelta(seconds=4), "GET",
               "https://acme.okta.com/home/acme_atlan_1/0oa9newapp1111111111/aln9newapp1111111111", 200, html=form),
        _entry(CAPTURED, "POST", ACS, 400, post={"SAMLResponse": saml_response}, html=error),
    ]
    har = {"log": {"version": "1.2", "creator": {"name": "WebInspector", "version": "537.36"},
                   "pages": [], "entries": entries}}
    OUT.mkdir(exist_ok=True)
    (OUT / "okta-idp-metadata.xml").write_bytes(metadata)
    (OUT / "okta-idp-initiated.har").write_text(json.dumps(har, indent=2) + "\n")
    (OUT / "okta-response.b64").write_text(saml_response + "\n")
    print(f"wrote {', '.join(p.name for p in sorted(OUT.iterdir()))} to {OUT}")


if __name__ == "__main__":
    main()
