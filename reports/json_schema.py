"""The JSON contract of ``ssodiag analyze --format json``, built from the code.

Every enum comes from the model's Enums (connectors, severities, statuses, verdicts, ...), so the schema cannot list a
value the code does not emit, or miss one it does. Every object lists all its keys and allows no other: a block the
report carries and the schema does not describe fails validation in the tests. ``reports/schema/report.schema.json``
is this module's output; regenerate it after changing the report's shape, and a test fails when it is stale:

    python -m ssodiag.reports.json_schema > reports/schema/report.schema.json
"""
from __future__ import annotations

import enum
import json
from typing import Any

from ssodiag.diag.broker import Outcome
from ssodiag.diag.decode import LAYER_BASE64, LAYER_INFLATE, LAYER_URL
from ssodiag.diag.groupsync import APPLIES
from ssodiag.diag.answer import ANSWER_BASES
from ssodiag.diag.judgement import ATLAN, STRICT
from ssodiag.diag.model import (
    Connector, Initiation, InputKind, MessageKind, Severity, SignatureVerdict, Status, VerdictStatus,
)
from ssodiag.diag.redact import KIND_LABEL
from ssodiag.reports.document import SCHEMA_VERSION

Schema = dict[str, Any]
STRING: Schema = {"type": "string"}
INTEGER: Schema = {"type": "integer"}
BOOLEAN: Schema = {"type": "boolean"}
TIME: Schema = {"type": ["string", "null"], "format": "date-time"}  # UTC, "Z"; null when absent or unreadable


def nullable(schema: Schema) -> Schema:
    return {"anyOf": [{"type": "null"}, schema]}


def optional_string() -> Schema:
    return {"type": ["string", "null"]}


def array(items: Schema) -> Schema:
    return {"type": "array", "items": items}


def ref(name: str) -> Schema:
    return {"$ref": f"#/$defs/{name}"}


def obj(properties: dict[str, Schema], *, optional: tuple[str, ...] = (), description: str | None = None) -> Schema:
    """An object with exactly these keys; all are required except ``optional``."""
    schema: Schema = {"type": "object"}
    if description:
        schema["description"] = description
    schema |= {"required": [k for k in properties if k not in optional], "properties": properties,
               "additionalProperties": False}
    return schema


def values(kind: type[enum.Enum]) -> list[str]:
    return [member.value for member in kind]


ENUMS: dict[str, list[Any]] = {
    "connector": values(Connector),
    "severity": values(Severity),
    "finding_status": values(Status),
    "verdict_status": values(VerdictStatus),
    "signature_verdict": values(SignatureVerdict),
    "message_kind": values(MessageKind),
    "input_kind": values(InputKind),
    "initiation": values(Initiation),
    "encoding_layer": [LAYER_URL, LAYER_BASE64, LAYER_INFLATE],
    "groupsync_applies": list(APPLIES),
    "judgement_mode": [ATLAN, STRICT],
    "step_outcome": values(Outcome),
    "redaction_kind": list(KIND_LABEL),
    "answer_basis": list(ANSWER_BASES),
}


def certificate() -> Schema:
    return obj({
        "subject": STRING, "issuer": STRING, "serial": STRING, "not_before": TIME, "not_after": TIME,
        "key_type": STRING, "key_bits": {"type": ["integer", "null"]}, "signature_algorithm": STRING,
        "sha1": {"type": "string", "pattern": "^[0-9A-F]{40}$"},
        "sha256": {"type": "string", "pattern": "^[0-9A-F]{64}$"}, "source": STRING,
    })


def signature() -> Schema:
    signed_element = obj({
        "element": STRING, "id": optional_string(), "reference_uri": optional_string(),
        "algorithm": optional_string(), "digest_algorithm": optional_string(), "verified": BOOLEAN,
        "covers_consumed_data": BOOLEAN,
    })
    return obj({
        "verdict": ref("signature_verdict"), "signed_elements": array(signed_element),
        "algorithm": optional_string(), "digest_algorithm": optional_string(), "reason": STRING,
        "rules_broken": array(STRING), "embedded_certificates": array(ref("certificate")),
        "signing_certificate": nullable(ref("certificate")),
    })


def assertion() -> Schema:
    return obj({
        "id": optional_string(), "issuer": optional_string(), "issue_instant": TIME,
        "subject": obj({"name_id": optional_string(), "format": optional_string(),
                        "sp_name_qualifier": optional_string()}),
        "subject_confirmations": array(obj({
            "method": STRING, "recipient": optional_string(), "in_response_to": optional_string(),
            "not_on_or_after": TIME})),
        "conditions": nullable(obj({"not_before": TIME, "not_on_or_after": TIME})),
        "audience_restrictions": {
            "description": "one list of Audiences per AudienceRestriction; each must name the SP",
            **array(array(STRING))},
        "authn_statements": array(obj({
            "authn_instant": TIME, "session_not_on_or_after": TIME, "authn_context_class_ref": optional_string()})),
        "attributes": {"description": "attribute Name -> values (repeated names merged)", "type": "object",
                       "additionalProperties": array(STRING)},
        "decrypted": BOOLEAN,
    })


def message() -> Schema:
    request = obj({
        "acs_url": optional_string(), "protocol_binding": optional_string(),
        "name_id_policy_format": optional_string(), "requested_authn_context": array(STRING),
        "force_authn": {"type": ["boolean", "null"]}, "is_passive": {"type": ["boolean", "null"]},
    }, description="AuthnRequest fields, present when the message is an AuthnRequest that sets any")
    encrypted_part = obj({
        "element": STRING, "data_algorithm": optional_string(), "key_algorithm": optional_string(),
        "decrypted": BOOLEAN, "error": optional_string()})
    return obj({
        "index": {"type": "integer", "minimum": 1, "description": "the message's number in the report, from 1"},
        "xml": {"type": "string", "description": "the message as indented XML for a reader "
                                                 "(bounded, control characters escaped)"},
        "source": STRING, "kind": ref("message_kind"), "binding": STRING,
        "encoding_layers": array(ref("encoding_layer")), "id": optional_string(), "issuer": optional_string(),
        "destination": optional_string(), "in_response_to": optional_string(), "issue_instant": TIME,
        "captured_at": TIME, "relay_state": optional_string(),
        "status": nullable(obj({"code": optional_string(), "sub_code": optional_string(),
                                "message": optional_string()})),
        "signature": ref("signature"), "assertions": array(ref("assertion")),
        "encrypted_parts": array(encrypted_part), "request": request,
    }, optional=("request",))


def metadata() -> Schema:
    endpoint = obj({"binding": STRING, "location": STRING})
    role = obj({"role": STRING, "sso_services": array(endpoint), "acs_services": array(endpoint),
                "signing_certificates": array(ref("certificate"))})
    entity = obj({"entity_id": STRING, "valid_until": TIME, "cache_duration": optional_string(),
                  "roles": array(role)})
    return obj({"source": STRING, "signed": BOOLEAN, "entities": array(entity)})


def flow() -> Schema:
    hop = obj({
        "index": INTEGER, "time": TIME, "method": STRING, "url": STRING, "status": {"type": ["integer", "null"]},
        "redirect_to": optional_string(),
        "message_index": {"type": ["integer", "null"], "minimum": 1, "description": "the message this entry carries"},
        "relay_state": optional_string(), "page_excerpt": optional_string()})
    return obj({"source": STRING, "initiation": ref("initiation"),
                "pairs": array(obj({"request_id": STRING, "response_id": STRING})), "hops": array(hop)})


def finding() -> Schema:
    return obj({
        "check_id": {"type": "string", "pattern": "^[A-Z]+\\d{3}$"}, "title": STRING, "severity": ref("severity"),
        "status": ref("finding_status"), "connector": ref("connector"), "message": STRING, "remediation": STRING,
        "evidence": obj({"source": optional_string(), "locator": optional_string(), "expected": optional_string(),
                         "seen": optional_string()}),
        "docs": optional_string(),
    })


def broker_prediction() -> Schema:
    step = obj({
        "number": INTEGER, "name": STRING, "outcome": ref("step_outcome"), "because": STRING,
        "page": nullable(obj({"key": STRING, "text": STRING, "http": INTEGER})),
        "event": optional_string(), "fix": STRING, "source": STRING,
    })
    return obj({
        "source": STRING, "stop_step": {"type": ["integer", "null"]},
        "settings": obj({"origin": STRING, "assumptions": array(STRING)}),
        "steps": array(step),
    }, description="Atlan's Keycloak broker, step by step, for one Response (diag.broker)")


def answer() -> Schema:
    step = obj({"text": STRING, "values": array(obj({"what": STRING, "value": STRING}))})
    return obj({"sentence": STRING, "steps": array(step), "check_after": array(STRING),
                "cause_check_id": optional_string(), "basis": ref("answer_basis")},
               description="what the report leads with: the verdict in one sentence, the fix as numbered steps "
                           "with the exact values, what to check afterwards")


def redaction() -> Schema:
    return obj({
        "replaced": array(obj({"kind": ref("redaction_kind"), "label": STRING, "count": INTEGER})),
        "summary": STRING,
    }, description="what redaction replaced (present when the report is redacted)")


def groupsync_plan() -> Schema:
    counts = ("users_in_idp", "users_in_atlan", "new_users", "not_in_idp", "adds", "removes", "blocked", "unchanged",
              "warnings")
    return obj({
        "kind": {"const": "groupsync-plan"}, "applies": ref("groupsync_applies"), "assumption": STRING,
        "summary": obj({name: INTEGER for name in counts}),
        "changes": array(obj({"username": STRING, "atlan_group": STRING, "action": {"enum": ["add", "remove"]},
                              "because": STRING, "sso_groups": array(STRING), "new_user": BOOLEAN})),
        "blocked": array(obj({"username": STRING, "atlan_username": STRING, "email": STRING, "reason": STRING})),
        "unchanged": INTEGER,
        "warnings": array(obj({"code": STRING, "message": STRING, "subjects": array(STRING)})),
        "redacted": BOOLEAN, "redaction": ref("redaction"),
    }, optional=("redacted", "redaction"),
        description="what Atlan's SSO group mappings will do to each user's groups (ssodiag groupsync simulate)")


def build_schema() -> Schema:
    expectations = obj({
        "sp_entity_id": optional_string(), "acs_urls": array(STRING), "idp_entity_id": optional_string(),
        "trusted_certificates": array({"type": "string", "pattern": "^[0-9A-F]{64}$"}),
        "trusted": array(ref("certificate")), "at": TIME, "clock_skew": INTEGER,
    }, description="what the checks judged against, once derived from the options and metadata")
    top = obj({
        "schema_version": {"const": SCHEMA_VERSION},
        "tool": obj({"name": {"const": "ssodiag"}, "version": STRING, "judged_at": TIME}),
        "redacted": BOOLEAN,
        "redaction": ref("redaction"),
        "verdict": obj({"status": ref("verdict_status"), "summary": STRING, "top_check_id": optional_string()}),
        "answer": answer(),
        "inputs": array(obj({"source": STRING, "kind": nullable(ref("input_kind")), "detail": STRING,
                             "error": optional_string()})),
        "expectations": expectations,
        "judgement": obj({"mode": ref("judgement_mode"), "reason": STRING},
                         description="which rules judged the run: what Atlan's broker enforces, or the SAML specs"),
        "broker": array(ref("broker_prediction")),
        "messages": array(ref("message")),
        "metadata": array(ref("metadata")),
        "certificates": array(ref("certificate")),
        "flow": array(ref("flow")),
        "error_pages": array(obj({"source": STRING, "url": optional_string(), "status": {"type": ["integer", "null"]},
                                  "text": STRING})),
        "detections": array(obj({"connector": ref("connector"), "reason": STRING})),
        "findings": array(ref("finding")),
        "summary": obj({name: INTEGER for name in ENUMS["finding_status"]}),
        "groupsync": ref("groupsync_plan"),
    }, optional=("redaction", "groupsync", "broker"))
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://ssodiag.invalid/schema/report-1.json",
        "title": "ssodiag analyze report",
        "description": "Shape of `ssodiag analyze --format json`, generated from the code by "
                       "ssodiag.reports.json_schema: every key is listed, every enum is the code's.",
        **top,
        "$defs": {
            **{name: {"enum": members} for name, members in ENUMS.items()},
            "certificate": certificate(), "signature": signature(), "assertion": assertion(), "message": message(),
            "metadata": metadata(), "flow": flow(), "finding": finding(), "redaction": redaction(),
            "groupsync_plan": groupsync_plan(), "broker_prediction": broker_prediction(),
        },
    }


def render() -> str:
    return json.dumps(build_schema(), indent=2) + "\n"


if __name__ == "__main__":
    print(render(), end="")
