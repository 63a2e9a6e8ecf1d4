"""Benchmark: loading evidence and judging a Response, against the baselines a user would otherwise use.

Run from the repo root:  python bench/bench_evidence.py   (needs the `bench` and `test` extras)

Every figure is the median of several runs in this one process, so the ratios compare like with like on the same
machine at the same moment. It prints a Markdown table; docs/performance.md records a run and its command.
- HAR: ssodiag's read_har (JSON parse + SAML extraction + flow) vs json.load alone vs haralyzer (parse + entries).
- Response: ssodiag (parse + signature verification + wrapping rules + every check) vs python3-saml strict is_valid.
"""
from __future__ import annotations

import base64
import json
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from haralyzer import HarEntry, HarParser  # noqa: E402
from onelogin.saml2.response import OneLogin_Saml2_Response  # noqa: E402
from onelogin.saml2.settings import OneLogin_Saml2_Settings  # noqa: E402

from ssodiag.diag.certs import load_certificates  # noqa: E402
from ssodiag.diag.har import read_har  # noqa: E402
from ssodiag.diag.model import Evidence, Expectations  # noqa: E402
from ssodiag.diag.runner import analyze  # noqa: E402
from ssodiag.diag.saml import parse_message  # noqa: E402
from tests.idp import ACS_URL, IDP_ENTITY_ID, SP_ENTITY_ID, TestIdP  # noqa: E402
from timing import median_seconds  # noqa: E402


def make_har(entries: int, saml_response_b64: str) -> bytes:
    """A busy capture: `entries` ordinary requests (scripts, images, XHR with JSON bodies) and one SAML POST."""
    rows = []
    for i in range(entries):
        body = json.dumps({"items": [{"id": j, "name": f"asset-{i}-{j}"} for j in range(20)]})
        rows.append({
            "startedDateTime": f"2026-11-20T09:{(i // 60) % 60:02d}:{i % 60:02d}.000Z", "time": 12.0,
            "request": {"method": "GET", "url": f"https://acme.atlan.com/api/assets?page={i}", "headers": [],
                        "queryString": [], "cookies": [], "headersSize": -1, "bodySize": 0, "httpVersion": "HTTP/2"},
            "response": {"status": 200, "statusText": "OK", "headers": [{"name": "Content-Type", "value": "application/json"}],
                         "cookies": [], "content": {"size": len(body), "mimeType": "application/json", "text": body},
                         "redirectURL": "", "headersSize": -1, "bodySize": len(body), "httpVersion": "HTTP/2"},
            "cache": {}, "timings": {"send": 1, "wait": 10, "receive": 1}})
    post = urlencode({"SAMLResponse": saml_response_b64})
    rows.insert(entries // 2, {
        "startedDateTime": "2026-11-20T09:30:00.000Z", "time": 80.0,
        "request": {"method": "POST", "url": ACS_URL, "headers": [], "queryString": [], "cookies": [],
                    "headersSize": -1, "bodySize": len(post), "httpVersion": "HTTP/1.1",
                    "postData": {"mimeType": "application/x-www-form-urlencoded", "text": post,
                                 "params": [{"name": "SAMLResponse", "value": saml_response_b64}]}},
        "response": {"status": 302, "statusText": "Found", "headers": [{"name": "Location", "value": "https://acme.atlan.com/"}],
                     "cookies": [], "content": {"size": 0, "mimeType": "text/html", "text": ""},
                     "redirectURL": "https://acme.atlan.com/", "headersSize": -1, "bodySize": 0, "httpVersion": "HTTP/1.1"},
        "cache": {}, "timings": {"send": 1, "wait": 70, "receive": 1}})
    return json.dumps({"log": {"version": "1.2", "creator": {"name": "bench", "version": "1"}, "pages": [],
                               "entries": rows}}).encode()


def python3_saml_settings(idp: TestIdP) -> OneLogin_Saml2_Settings:
    return OneLogin_Saml2_Settings({
        "strict": True, "debug": False,
        "sp": {"entityId": SP_ENTITY_ID, "assertionConsumerService": {"url": ACS_URL}},
        "idp": {"entityId": IDP_ENTITY_ID, "singleSignOnService": {"url": "https://idp.example.test/sso"},
                "x509cert": idp.cert_b64},
        "security": {"wantAssertionsSigned": True, "rejectDeprecatedAlgorithm": True},
    }, sp_validation_only=True)


def main() -> None:
    idp = TestIdP()
    response_xml = idp.signed_response(in_response_to=None, sc_in_response_to=None)
    response_b64 = base64.b64encode(response_xml).decode()
    rows = []

    for entries in (200, 2000):
        har = make_har(entries, response_b64)
        with tempfile.NamedTemporaryFile(suffix=".har", delete=False) as fh:
            fh.write(har)
            path = fh.name

        def load_json():
            with open(path, "rb") as f:
                json.load(f)

        def load_haralyzer():
            # parse, then wrap every entry and read its URL: the least a HAR tool does before looking at SAML
            with open(path, "rb") as f:
                parser = HarParser(json.load(f))
            [HarEntry(e).request.url for e in parser.har_data["entries"]]

        def load_ssodiag():
            with open(path, "rb") as f:
                content = read_har(f.read(), "bench.har")
            assert len(content.messages) == 1

        repeat = 15 if entries <= 200 else 5
        t_json, t_har, t_ours = (median_seconds(f, repeat, warm_up=True) for f in (load_json, load_haralyzer, load_ssodiag))
        size_mb = len(har) / 1e6
        rows.append((f"HAR, {entries} entries ({size_mb:.1f} MB)", "json.load", t_ours, t_json))
        rows.append((f"HAR, {entries} entries ({size_mb:.1f} MB)", "haralyzer HarParser", t_ours, t_har))

    cert = load_certificates(idp.cert_pem.encode(), "idp.pem")
    expect = Expectations(idp_certificates=cert, sp_entity_id=SP_ENTITY_ID, acs_urls=(ACS_URL,),
                          idp_entity_id=IDP_ENTITY_ID)
    settings = python3_saml_settings(idp)

    def ours_full():
        msg = parse_message(response_xml, source="bench")
        result = analyze(Evidence(messages=(msg,)), expect)
        assert result.evidence.messages[0].signature.verdict.value == "valid"

    def oracle():
        response = OneLogin_Saml2_Response(settings, response_b64)
        assert response.is_valid({"https": "on", "http_host": "sp.example.test", "script_name": "/acs"},
                                 raise_exceptions=True)

    t_ours, t_oracle = median_seconds(ours_full, 50, warm_up=True), median_seconds(oracle, 50, warm_up=True)
    rows.append(("Signed Response (5 KB): parse + verify + all checks", "python3-saml strict is_valid", t_ours, t_oracle))

    print("| workload | baseline | ssodiag (ms) | baseline (ms) | ratio ssodiag/baseline |")
    print("|---|---|---:|---:|---:|")
    for workload, baseline, ours, base in rows:
        print(f"| {workload} | {baseline} | {ours * 1000:.2f} | {base * 1000:.2f} | {ours / base:.2f} |")


if __name__ == "__main__":
    main()
