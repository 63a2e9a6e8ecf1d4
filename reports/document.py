"""The report document: a RunResult as plain JSON-able data, in the stable shape of schema/report.schema.json.

Every renderer (json, terminal, markdown, html) renders this document, so they cannot disagree, and redaction
(diag.redact) works on it once, after the diagnosis ran on the real values.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from ssodiag.diag.model import (
    Assertion, Certificate, Finding, Flow, Metadata, RunResult, SamlMessage, SignatureReport, Status,
)

SCHEMA_VERSION = "1.0"


def _time(value: datetime | None) -> str | None:
    return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z") if value else None


def certificate_doc(cert: Certificate) -> dict[str, Any]:
    return {
        "subject": cert.subject, "issuer": cert.issuer, "serial": cert.serial,
        "not_before": _time(cert.not_before), "not_after": _time(cert.not_after),
        "key_type": cert.key_type, "key_bits": cert.key_bits, "signature_algorithm": cert.signature_algorithm,
        "sha1": cert.sha1, "sha256": cert.sha256, "source": cert.source,
    }


def _signature_doc(sig: SignatureReport) -> dict[str, Any]:
    return {
        "verdict": sig.verdict.value,
        "signed_elements": [
            {"element": s.element, "id": s.element_id, "reference_uri": s.reference_uri, "algorithm": s.algorithm,
             "digest_algorithm": s.digest_algorithm, "verified": s.verified,
             "covers_consumed_data": s.covers_consumed_data}
            for s in sig.signed_elements
        ],
        "algorithm": sig.algorithm,
        "digest_algorithm": sig.digest_algorithm,
        "reason": sig.reason,
        "rules_broken": list(sig.rules_broken),
        "embedded_certificates": [certificate_doc(c) for c in sig.embedded_certificates],
        "signing_certificate": certificate_doc(sig.signing_certificate) if sig.signing_certificate else None,
    }


def _assertion_doc(a: Assertion) -> dict[str, Any]:
    attributes: dict[str, list[str]] = {}
    for attr in a.attributes:  # duplicate names are merged here; a check reports them
        attributes.setdefault(attr.name, []).extend(attr.values)
    return {
        "id": a.id,
        "issuer": a.issuer,
        "issue_instant": _time(a.issue_instant),
        "subject": {
            "name_id": a.name_id.value if a.name_id else None,
            "format": a.name_id.format if a.name_id else None,
            "sp_name_qualifier": a.name_id.sp_name_qualifier if a.name_id else None,
        },
        "subject_confirmations": [
            {"method": s.method, "recipient": s.recipient, "in_response_to": s.in_response_to,
             "not_on_or_after": _time(s.not_on_or_after)}
            for s in a.subject_confirmations
        ],
        "conditions": None if a.conditions is None else {
            "not_before": _time(a.conditions.not_before), "not_on_or_after": _time(a.conditions.not_on_or_after)},
        "audiences": list(a.conditions.audiences) if a.conditions else [],
        "authn_statements": [
            {"authn_instant": _time(s.authn_instant), "session_not_on_or_after": _time(s.session_not_on_or_after),
             "authn_context_class_ref": s.authn_context_class_ref}
            for s in a.authn_statements
        ],
        "attributes": attributes,
        "decrypted": a.decrypted_from is not None,
    }


def _message_doc(index: int, m: SamlMessage) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "index": index,
        "source": m.source,
        "kind": m.kind.value,
        "binding": m.binding,
        "encoding_layers": list(m.encoding_layers),
        "id": m.id,
        "issuer": m.issuer,
        "destination": m.destination,
        "in_response_to": m.in_response_to,
        "issue_instant": _time(m.issue_instant),
        "captured_at": _time(m.captured_at),
        "relay_state": m.relay_state,
        "status": None if m.status is None else
        {"code": m.status.code, "sub_code": m.status.sub_code, "message": m.status.message},
        "signature": _signature_doc(m.signature),
        "assertions": [_assertion_doc(a) for a in m.assertions],
        "encrypted_parts": [
            {"element": p.element, "data_algorithm": p.data_algorithm, "key_algorithm": p.key_algorithm,
             "decrypted": p.decrypted, "error": p.error}
            for p in m.encrypted_parts
        ],
    }
    if m.acs_url or m.name_id_policy_format or m.requested_authn_context:
        doc["request"] = {
            "acs_url": m.acs_url, "protocol_binding": m.protocol_binding,
            "name_id_policy_format": m.name_id_policy_format,
            "requested_authn_context": list(m.requested_authn_context),
            "force_authn": m.force_authn, "is_passive": m.is_passive,
        }
    return doc


def _metadata_doc(md: Metadata) -> dict[str, Any]:
    return {
        "source": md.source,
        "signed": md.has_signature,
        "entities": [
            {"entity_id": e.entity_id, "valid_until": _time(e.valid_until), "cache_duration": e.cache_duration,
             "roles": [
                 {"role": r.role,
                  "sso_services": [{"binding": p.binding, "location": p.location} for p in r.sso_services],
                  "acs_services": [{"binding": p.binding, "location": p.location} for p in r.acs_services],
                  "signing_certificates": [certificate_doc(c) for c in r.signing_certificates]}
                 for r in e.roles]}
            for e in md.entities
        ],
    }


def _flow_doc(flow: Flow) -> dict[str, Any]:
    return {
        "source": flow.source,
        "initiation": flow.initiation,
        "pairs": [{"request_id": q, "response_id": r} for q, r in flow.pairs],
        "hops": [
            {"index": h.index, "time": _time(h.time), "method": h.method, "url": h.url, "status": h.status,
             "redirect_to": h.redirect_to, "message_index": h.message_index, "relay_state": h.relay_state,
             "page_excerpt": h.page_excerpt}
            for h in flow.hops
        ],
    }


def finding_doc(f: Finding) -> dict[str, Any]:
    return {
        "check_id": f.check_id, "title": f.title, "severity": f.severity.value, "status": f.status.value,
        "connector": f.connector.value, "message": f.message, "remediation": f.remediation,
        "evidence": {"source": f.source, "locator": f.locator, "expected": f.expected, "seen": f.seen},
        "docs": f.docs,
    }


def verdict(findings: list[dict[str, Any]], messages: list[dict[str, Any]]) -> dict[str, Any]:
    """The one-line answer shown first: what is wrong, or that nothing wrong was found in what we could check.

    "pass" needs every signed message verified with trusted keys: an unverified signature makes the run
    "inconclusive", never a pass.
    """
    failing = [f for f in findings if f["status"] == Status.FAIL.value]
    warnings = [f for f in findings if f["status"] == Status.WARN.value]
    if failing:
        worst = failing[0]  # findings are sorted: fail first, worst severity first
        more = f" (and {len(failing) - 1} more problem{'s' if len(failing) > 2 else ''})" if len(failing) > 1 else ""
        return {"status": "fail", "summary": f"{worst['title']}{more}", "top_check_id": worst["check_id"]}
    if not messages:
        return {"status": "inconclusive", "summary": "No SAML message found in the evidence; nothing to judge.",
                "top_check_id": None}
    if warnings:
        return {"status": "warn", "summary": f"No blocking problem found; {len(warnings)} warning(s) to review.",
                "top_check_id": warnings[0]["check_id"]}
    unverified = [m for m in messages if m["signature"]["verdict"] not in ("valid", "absent")]
    if unverified:
        # The trust engine's reason names what is missing (no trusted key, or an assertion that needs --sp-key);
        # a fixed hint would ask for --idp-metadata from a user who already gave it.
        first = unverified[0]["signature"]
        return {"status": "inconclusive",
                "summary": f"No problem found, but {len(unverified)} message signature(s) could not be verified "
                           f"({first['verdict']}): {first['reason']}.",
                "top_check_id": None}
    if not any(m["kind"] == "Response" for m in messages):
        # most logins fail on the IdP's answer; a clean AuthnRequest alone says nothing about it
        return {"status": "inconclusive",
                "summary": "No problem found in the messages given, but none is a SAML Response, so the IdP's answer "
                           "was not judged: give a HAR of the whole login or the SAMLResponse value.",
                "top_check_id": None}
    return {"status": "pass", "summary": "No problem found in the checks that could run.", "top_check_id": None}


def build_document(result: RunResult) -> dict[str, Any]:
    ev = result.evidence
    findings = [finding_doc(f) for f in result.findings]
    messages = [_message_doc(i, m) for i, m in enumerate(ev.messages)]
    counts = {s.value: sum(1 for f in result.findings if f.status is s) for s in Status}
    doc: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "ssodiag", "version": result.tool_version},
        "redacted": False,
        "verdict": verdict(findings, messages),
        "inputs": [{"source": i.source, "kind": i.kind.value if i.kind else None, "detail": i.detail,
                    "error": i.error} for i in ev.inputs],
        "expectations": {
            "sp_entity_id": result.extras.get("sp_entity_id"),
            "acs_urls": result.extras.get("acs_urls", []),
            "idp_entity_id": result.extras.get("idp_entity_id"),
            "trusted_certificates": [c.sha256 for c in result.extras.get("trusted_certificates", ())],
            "at": _time(result.expectations.at),
            "clock_skew": result.expectations.clock_skew,
        },
        "messages": messages,
        "metadata": [_metadata_doc(m) for m in ev.metadata],
        "certificates": [certificate_doc(c) for c in ev.certificates],
        "flow": [_flow_doc(f) for f in ev.flows],
        "error_pages": [{"source": p.source, "url": p.url, "status": p.status, "text": p.text}
                        for p in ev.error_pages],
        "detections": [{"connector": d.connector.value, "reason": d.reason} for d in result.detections],
        "findings": findings,
        "summary": counts,
    }
    if "groupsync" in result.extras:
        doc["groupsync"] = result.extras["groupsync"]
    return doc
