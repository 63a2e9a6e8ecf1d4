"""The report document: a RunResult as plain JSON-able data, in the stable shape of schema/report.schema.json.

Every renderer (json, terminal, markdown, html) renders this document, so they cannot disagree, and redaction
(diag.redact) works on it once, after the diagnosis ran on the real values.
"""
from __future__ import annotations

import copy
from collections import Counter
from datetime import datetime, timezone
from enum import Enum
from functools import lru_cache
from typing import Any

from lxml import etree

from ssodiag.diag.broker import Prediction, source_url
from ssodiag.diag.model import (
    Answer, Assertion, Certificate, Connector, Finding, Flow, Metadata, RunResult, SamlMessage, Severity,
    SignatureReport, Status,
)
from ssodiag.diag.text import clip_block

SCHEMA_VERSION = "1.0"
MAX_XML_CHARS = 100_000  # of one message's pretty XML in the report: a real Response is 5-20 KB


@lru_cache(maxsize=1024)  # a message names a few instants many times; its certificate's are every message's
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
        "audience_restrictions": [list(r.audiences) for r in a.conditions.audience_restrictions]
        if a.conditions else [],
        "authn_statements": [
            {"authn_instant": _time(s.authn_instant), "session_not_on_or_after": _time(s.session_not_on_or_after),
             "authn_context_class_ref": s.authn_context_class_ref}
            for s in a.authn_statements
        ],
        "attributes": attributes,
        "decrypted": a.decrypted_from is not None,
    }


def pretty_xml(m: SamlMessage) -> str:
    """The message as indented XML for a reader, bounded (signatures are verified on the original bytes, never on
    this copy)."""
    if m.root is None:
        return ""
    display = copy.deepcopy(m.root)
    etree.indent(display)
    return clip_block(etree.tostring(display, encoding="unicode"), MAX_XML_CHARS)


def _message_doc(index: int, m: SamlMessage) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "index": index,
        "xml": pretty_xml(m),
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
        "initiation": flow.initiation.value,
        "pairs": [{"request_id": q, "response_id": r} for q, r in flow.pairs],
        "hops": [
            {"index": h.index, "time": _time(h.time), "method": h.method, "url": h.url, "status": h.status,
             "redirect_to": h.redirect_to, "message_index": None if h.message_index is None else h.message_index + 1, "relay_state": h.relay_state,
             "page_excerpt": h.page_excerpt}
            for h in flow.hops
        ],
    }


def prediction_doc(prediction: Prediction) -> dict[str, Any]:
    """Atlan's broker, step by step, for one Response (diag.broker)."""
    config = prediction.config
    stop = prediction.stop
    return {
        "source": prediction.source,
        "stop_step": stop.number if stop else None,
        "settings": {"origin": config.origin, "assumptions": list(config.assumptions)},
        "steps": [
            {"number": s.number, "name": s.name, "outcome": s.outcome.value, "because": s.because,
             "page": None if s.page is None else {"key": s.page.key, "text": s.page.text, "http": s.page.http},
             "event": s.event, "fix": s.fix, "source": source_url(s.cite)}
            for s in prediction.steps
        ],
    }


# The value of each enum member a finding holds: an Enum's ``.value`` is a Python-level property (0.2 µs), read three
# times for each of the thousands of findings of a long capture. (str Enum members equal their values, so members of
# two enums that share a value share the entry harmlessly.)
_VALUE: dict[Enum, str] = {member: member.value for kind in (Severity, Status, Connector) for member in kind}


def finding_doc(f: Finding) -> dict[str, Any]:
    return {
        "check_id": f.check_id, "title": f.title, "severity": _VALUE[f.severity], "status": _VALUE[f.status],
        "connector": _VALUE[f.connector], "message": f.message, "remediation": f.remediation,
        "evidence": {"source": f.source, "locator": f.locator, "expected": f.expected, "seen": f.seen},
        "docs": f.docs,
    }


def answer_doc(answer: Answer) -> dict[str, Any]:
    return {
        "sentence": answer.sentence,
        "steps": [{"text": s.text, "values": [{"what": what, "value": value} for what, value in s.values]}
                  for s in answer.steps],
        "check_after": list(answer.check_after),
        "cause_check_id": answer.cause_check_id,
        "basis": answer.basis,
    }


def build_document(result: RunResult) -> dict[str, Any]:
    ev = result.evidence
    by_status = Counter(f.status for f in result.findings)
    counts = {s.value: by_status[s] for s in Status}
    doc: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "ssodiag", "version": result.tool_version, "judged_at": _time(result.judged_at)},
        "redacted": False,
        "verdict": {"status": result.verdict.status.value, "summary": result.verdict.summary,
                    "top_check_id": result.verdict.top_check_id},
        "answer": answer_doc(result.answer),
        "inputs": [{"source": i.source, "kind": i.kind.value if i.kind else None, "detail": i.detail,
                    "error": i.error} for i in ev.inputs],
        "expectations": {
            "sp_entity_id": result.resolved.sp_entity_id,
            "acs_urls": list(result.resolved.acs_urls),
            "idp_entity_id": result.resolved.idp_entity_id,
            "trusted_certificates": [c.sha256 for c in result.resolved.trusted_certificates],
            "trusted": [certificate_doc(c) for c in result.resolved.trusted_certificates],
            "at": _time(result.expectations.at),
            "clock_skew": result.resolved.clock_skew,
        },
        "judgement": {"mode": result.judgement.mode, "reason": result.judgement.reason},
        "messages": [_message_doc(i, m) for i, m in enumerate(ev.messages, start=1)],  # #1 is the first, as HAR entries
        "metadata": [_metadata_doc(m) for m in ev.metadata],
        "certificates": [certificate_doc(c) for c in ev.certificates],
        "flow": [_flow_doc(f) for f in ev.flows],
        "error_pages": [{"source": p.source, "url": p.url, "status": p.status, "text": p.text}
                        for p in ev.error_pages],
        "detections": [{"connector": d.connector.value, "reason": d.reason} for d in result.detections],
        "findings": [finding_doc(f) for f in result.findings],
        "summary": counts,
    }
    if result.broker:
        doc["broker"] = [prediction_doc(p) for p in result.broker]
    if result.groupsync is not None:
        doc["groupsync"] = result.groupsync.to_dict()
    return doc
