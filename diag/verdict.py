"""The run's verdict: what is wrong, or that nothing wrong was found in what could be checked.

Computed once from the typed findings and messages, so every renderer shows the same answer.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import urlsplit

from ssodiag.diag.broker import BROKER_STOP_CHECK
from ssodiag.diag.har import RECAPTURE_WITH_POST
from ssodiag.diag.lazyre import LazyRegex
from ssodiag.diag.model import (
    Finding, Flow, FlowHop, InputKind, LoadedInput, MessageKind, SamlMessage, SignatureVerdict, Status, Verdict, VerdictStatus,
)

_VERIFIED_OR_UNSIGNED = (SignatureVerdict.VALID, SignatureVerdict.ABSENT)


def judge_run(findings: Sequence[Finding], messages: Sequence[SamlMessage],
              inputs: Sequence[LoadedInput] = (), flows: Sequence[Flow] = ()) -> Verdict:
    """``findings`` must be sorted as the runner sorts them (failures first, worst severity first), so the first
    failure is the one to fix. "pass" needs every signed message verified with trusted keys: an unverified signature
    makes the run "inconclusive", never a pass; an input that could not be read makes it "incomplete" at best.
    """
    verdict = _judge(findings, messages)
    lost = _bodiless_acs_post(flows)
    if lost is not None and verdict.status is not VerdictStatus.FAIL \
            and not any(m.kind is MessageKind.RESPONSE for m in messages):
        return Verdict(VerdictStatus.INCONCLUSIVE,
                       f"The capture's POST to the ACS URL (entry {lost.index}: {lost.url[:120]}) has no body, so the "
                       "IdP's SAML Response was lost from the HAR (browsers drop some request bodies from an export). "
                       f"{RECAPTURE_WITH_POST}, or use Firefox or the SAML-tracer add-on, which keep POST bodies; "
                       "ssodiag redacts what it writes.")
    if not messages and verdict.status is VerdictStatus.INCONCLUSIVE and any(i.kind is InputKind.URL for i in inputs):
        return Verdict(VerdictStatus.INCONCLUSIVE,
                       "No problem found in the URL given, but a URL carries no SAML message, so the IdP's answer was "
                       "not judged: open the URL with the browser's network log recording ('Preserve log') and give "
                       "the HAR, or give the SAMLResponse value.")
    unread = [i for i in inputs if i.error]
    if unread and verdict.status is VerdictStatus.PASS:
        return Verdict(VerdictStatus.INCOMPLETE,
                       f"No problem found in what could be read, but {len(unread)} input(s) could not be read "
                       f"({unread[0].source}): the answer may be there.")
    return verdict


# Where an IdP posts the SAMLResponse: Keycloak's broker endpoint, or an ACS path as most SPs name it.
_ACS_PATH = LazyRegex(r"/broker/[^/]+/endpoint|/acs\b|/saml2?/(?:sp/)?(?:acs|consume|post)", re.IGNORECASE)


def _bodiless_acs_post(flows: Sequence[Flow]) -> FlowHop | None:
    """A POST to an ACS URL that carried no SAML message: its body did not make it into the capture."""
    return next((h for f in flows for h in f.hops if h.method == "POST" and h.message_index is None
                 and _ACS_PATH.search(urlsplit(h.url).path)), None)


def _judge(findings: Sequence[Finding], messages: Sequence[SamlMessage]) -> Verdict:
    failing = [f for f in findings if f.status is Status.FAIL]
    warnings = [f for f in findings if f.status is Status.WARN]
    if failing:
        worst = failing[0]
        more = f" (and {len(failing) - 1} more problem{'s' if len(failing) > 2 else ''})" if len(failing) > 1 else ""
        # for an Atlan login the answer is where the broker stops, said in full ("Atlan stops at step 7: …")
        headline = worst.message if worst.check_id == BROKER_STOP_CHECK else worst.title
        return Verdict(VerdictStatus.FAIL, f"{headline}{more}", worst.check_id)
    if not messages:
        return Verdict(VerdictStatus.INCONCLUSIVE, "No SAML message found in the evidence; nothing to judge.")
    if warnings:
        return Verdict(VerdictStatus.WARN, f"No blocking problem found; {len(warnings)} warning(s) to review.",
                       warnings[0].check_id)
    unverified = [m.signature for m in messages if m.signature.verdict not in _VERIFIED_OR_UNSIGNED]
    if unverified:
        # The trust engine's reason names what is missing (no trusted key, or an assertion that needs --sp-key);
        # a fixed hint would ask for --idp-metadata from a user who already gave it.
        first = unverified[0]
        return Verdict(VerdictStatus.INCONCLUSIVE,
                       f"No problem found, but {len(unverified)} message signature(s) could not be verified "
                       f"({first.verdict.value}): {first.reason}.")
    if not any(m.kind is MessageKind.RESPONSE for m in messages):
        # most logins fail on the IdP's answer; a clean AuthnRequest alone says nothing about it
        return Verdict(VerdictStatus.INCONCLUSIVE,
                       "No problem found in the messages given, but none is a SAML Response, so the IdP's answer "
                       "was not judged: give a HAR of the whole login or the SAMLResponse value.")
    return Verdict(VerdictStatus.PASS, "No problem found in the checks that could run.")
