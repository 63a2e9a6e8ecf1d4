"""Amplification: inputs small on disk that would make one run do unbounded work. Each bound is asserted by its
effect (a cap named in the report, work not done), never by the clock; bench/bench_amplification.py measures the
time and memory of each as a whole process."""
from __future__ import annotations

import tracemalloc

from ssodiag.diag import runner
from ssodiag.diag.certs import load_certificates
from ssodiag.diag.evidence import load_evidence
from ssodiag.diag.har import MAX_DECODED_BYTES
from ssodiag.diag.limits import MAX_INFLATED_BYTES
from ssodiag.diag.model import Evidence, Expectations, SignatureVerdict
from ssodiag.diag.saml import parse_message
from ssodiag.diag.signature import verify_message
from tests.hostile import inflating_redirects_har, nested_signatures_har, text_flood
from tests.idp import TestIdP, utc_now

IDP = TestIdP()
MEMORY_BOUND_BYTES = 400 * 1024 * 1024


def test_inflated_bytes_are_bounded_per_capture_not_only_per_message(tmp_path):
    path = tmp_path / "redirects.har"
    path.write_bytes(inflating_redirects_har(count=40))  # 40 x ~8 MB once inflated
    tracemalloc.start()
    try:
        evidence = load_evidence([str(path)])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    [loaded] = evidence.inputs
    assert len(evidence.messages) == -(-MAX_DECODED_BYTES // (MAX_INFLATED_BYTES - 1000))  # then the cap
    assert "once decoded, the rest are not read" in loaded.detail
    assert peak < MEMORY_BOUND_BYTES


def test_signatures_the_wrapping_rules_condemn_are_not_verified():
    [message] = load_evidence_from(nested_signatures_har(IDP, count=1)).messages
    assert message.root is not None and len(list(message.root.iter("{http://www.w3.org/2000/09/xmldsig#}Signature"))) == 9
    report = verify_message(message, load_certificates(IDP.cert_pem.encode(), "idp.pem"), ())
    # nine nested copies of the Assertion's signature: only the one a relying party reads is verified
    assert len(report.signed_elements) == 1 and report.verdict is SignatureVerdict.WRAPPING
    assert any(rule.startswith("signature-parent:") for rule in report.rules_broken)


def test_signature_verifications_are_bounded_per_run(monkeypatch):
    monkeypatch.setattr(runner, "MAX_SIGNATURE_VERIFICATIONS", 4)
    messages = tuple(parse_message(IDP.signed_response(what="both"), source=f"r{i}.xml") for i in range(4))
    result = runner.analyze(Evidence(messages=messages),
                            Expectations(idp_certificates=load_certificates(IDP.cert_pem.encode(), "idp.pem"),
                                         at=utc_now()))
    verdicts = [m.signature.verdict for m in result.evidence.messages]
    assert verdicts == [SignatureVerdict.VALID, SignatureVerdict.VALID, SignatureVerdict.NOT_CHECKED,
                        SignatureVerdict.NOT_CHECKED]
    assert "already verified 4 signatures" in result.evidence.messages[2].signature.reason


def test_a_large_text_file_is_one_line_not_a_scan_of_all_of_it(tmp_path):
    path = tmp_path / "log.txt"
    path.write_bytes(text_flood(megabytes=16))
    [loaded] = load_evidence([str(path)]).inputs
    assert loaded.error is not None and "not recognised" in loaded.error and "\n" not in loaded.error


def load_evidence_from(har: bytes, tmp_name: str = "capture.har") -> Evidence:
    import tempfile
    from pathlib import Path
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / tmp_name
        path.write_bytes(har)
        return load_evidence([str(path)])
