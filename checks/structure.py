"""SAML: the elements a Response and its Assertion must carry, and how many of each (SAML core §2-§3, SAML profiles
§4.1.4.2): Version, IDs, one assertion, Conditions, a bearer confirmation, one AuthnStatement, unique attributes.

Each rule is its own check and judges every Response and Assertion in the evidence, so one run shows every problem.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from ssodiag.checks.common import (
    BEARER, PROFILES, SPEC, assertion_locator, bearer_confirmations, each_assertion, no_assertion_reason,
    response_name,
)
from ssodiag.diag.context import DiagContext
from ssodiag.diag.model import Assertion, Finding, SamlMessage, Severity
from ssodiag.diag.registry import CheckSpec, Need, check
from ssodiag.diag.text import quoted

SAML_VERSION = "2.0"


@check(id="SAML002", title="SAML version is not 2.0", severity=Severity.HIGH, requires={Need.RESPONSE}, docs=SPEC,
       remediation="Configure the IdP to issue SAML 2.0 Responses and Assertions (Version=\"2.0\").")
def version_is_2_0(ctx: DiagContext, spec: CheckSpec) -> Iterator[Finding]:
    """Response and Assertion must carry Version="2.0" (SAML core §3.2.2, §2.3.3); python3-saml code 0."""
    for msg in ctx.responses:
        parts = [("Response", response_name(msg), msg.version)]
        parts += [(assertion_locator(i), f"Assertion {quoted(a.id)}", a.version) for i, a in enumerate(msg.assertions)]
        for locator, name, version in parts:
            where = dict(source=msg.source, locator=f"{locator}/@Version", expected=SAML_VERSION, seen=version)
            if version == SAML_VERSION:
                yield spec.passed(f"{name} has Version `2.0`.", **where)
            else:
                shown = quoted(version) if version is not None else "no Version"
                yield spec.fail(f"{name} has {shown}; SAML 2.0 requires `2.0`.", **where)


@check(id="SAML003", title="Response or Assertion has no ID", severity=Severity.MEDIUM, requires={Need.RESPONSE},
       docs=SPEC, remediation="The IdP must give the Response and every Assertion an ID attribute; a message without "
                              "one was altered or built by hand.")
def ids_present(ctx: DiagContext, spec: CheckSpec) -> Iterator[Finding]:
    """ID is required on the Response (SAML core §3.2.2) and the Assertion (§2.3.3); a signature references it.

    python3-saml MISSING_ID (code 1); without an ID no XML signature can point at the element.
    """
    for msg in ctx.responses:
        parts = [("Response", "The Response", msg.id)]
        parts += [(assertion_locator(i), f"Assertion {i + 1}", a.id) for i, a in enumerate(msg.assertions)]
        for locator, name, value in parts:
            where = dict(source=msg.source, locator=f"{locator}/@ID")
            if value:
                yield spec.passed(f"{name} has ID {quoted(value)}.", seen=value, **where)
            else:
                yield spec.fail(f"{name} has no ID attribute.", expected="an ID", seen="(none)", **where)


@check(id="SAML005", title="Response does not carry exactly one assertion", severity=Severity.CRITICAL,
       requires={Need.RESPONSE}, docs=SPEC,
       remediation="Configure the IdP to send exactly one Assertion per Response (SAML profiles §4.1.4.2).")
def one_assertion(ctx: DiagContext, spec: CheckSpec) -> Iterator[Finding]:
    """A successful Response carries exactly one assertion, plain or encrypted (python3-saml code 2,
    WRONG_NUMBER_OF_ASSERTIONS). Several assertions are also the shape of signature-wrapping attacks (XSW3-XSW5).
    A non-Success Response is skipped: it rightly has none (see SAML001).
    """
    for msg in ctx.responses:
        where = dict(source=msg.source, locator="Response/Assertion")
        if msg.status is not None and msg.status.code and not msg.status.is_success:
            yield spec.skip(f"{response_name(msg)} was not judged: {no_assertion_reason(msg)}.", **where)
            continue
        encrypted = sum(1 for p in msg.encrypted_parts if p.element == "EncryptedAssertion")
        count = len(msg.assertions) + encrypted
        detail = f"{len(msg.assertions)} plain, {encrypted} encrypted"
        if count == 1:
            yield spec.passed(f"{response_name(msg)} carries one assertion ({detail}).", seen=str(count), **where)
        elif count == 0:
            yield spec.fail(f"{response_name(msg)} has status Success but carries no assertion.", expected="1",
                            seen="0", **where)
        else:
            yield spec.fail(f"{response_name(msg)} carries `{count}` assertions ({detail}); a relying party "
                            f"rejects this, and it is the shape of a signature-wrapping attack.", expected="1",
                            seen=str(count), severity=Severity.HIGH, **where)


@check(id="SAML006", title="Assertion has no Conditions", severity=Severity.MEDIUM, requires={Need.RESPONSE},
       docs=SPEC, remediation="Configure the IdP to include Conditions with NotBefore/NotOnOrAfter and an "
                              "AudienceRestriction naming Atlan's SP entity ID.")
def conditions_present(ctx: DiagContext, spec: CheckSpec) -> Iterator[Finding]:
    """python3-saml MISSING_CONDITIONS (code 18). Without Conditions there is no validity window and no audience,
    so the assertion could be replayed anywhere (SAML core §2.5; profiles §4.1.4.2 require an AudienceRestriction).
    """

    def judge(msg: SamlMessage, assertion: Assertion, locator: str) -> Iterator[Finding]:
        where = dict(source=msg.source, locator=f"{locator}/Conditions")
        if assertion.conditions is None:
            yield spec.fail(f"Assertion {quoted(assertion.id)} has no Conditions element.", seen="(none)", **where)
        else:
            yield spec.passed(f"Assertion {quoted(assertion.id)} has Conditions.", **where)

    yield from each_assertion(ctx, spec, judge)


@check(id="SAML008", title="Assertion has no bearer SubjectConfirmation", severity=Severity.HIGH,
       requires={Need.RESPONSE}, docs=PROFILES,
       remediation="Configure the IdP to confirm the subject with the bearer method "
                   "(`urn:oasis:names:tc:SAML:2.0:cm:bearer`), as every web SSO IdP does by default.")
def bearer_present(ctx: DiagContext, spec: CheckSpec) -> Iterator[Finding]:
    """The Web Browser SSO profile requires at least one SubjectConfirmation with Method bearer
    (SAML profiles §4.1.4.2); python3-saml WRONG_SUBJECTCONFIRMATION (code 31).
    """

    def judge(msg: SamlMessage, assertion: Assertion, locator: str) -> Iterator[Finding]:
        where = dict(source=msg.source, locator=f"{locator}/Subject/SubjectConfirmation", expected=BEARER)
        methods = [sc.method for sc in assertion.subject_confirmations]
        if bearer_confirmations(assertion):
            yield spec.passed(f"Assertion {quoted(assertion.id)} has a bearer SubjectConfirmation.", seen=BEARER,
                              **where)
        else:
            seen = ", ".join(methods) or "(no SubjectConfirmation)"
            yield spec.fail(f"Assertion {quoted(assertion.id)} has no bearer SubjectConfirmation (methods seen: "
                            f"{quoted(seen)}).", seen=seen, **where)

    yield from each_assertion(ctx, spec, judge)


@check(id="SAML020", title="Assertion does not carry exactly one AuthnStatement", severity=Severity.MEDIUM,
       requires={Need.RESPONSE}, docs=PROFILES,
       remediation="Configure the IdP to include one AuthnStatement (how and when the user signed in).")
def one_authn_statement(ctx: DiagContext, spec: CheckSpec) -> Iterator[Finding]:
    """The SSO profile's assertion carries an AuthnStatement (SAML profiles §4.1.4.2); python3-saml and ruby-saml
    require exactly one (WRONG_NUMBER_OF_AUTHSTATEMENTS, code 21).
    """

    def judge(msg: SamlMessage, assertion: Assertion, locator: str) -> Iterator[Finding]:
        count = len(assertion.authn_statements)
        where = dict(source=msg.source, locator=f"{locator}/AuthnStatement", expected="1", seen=str(count))
        if count == 1:
            yield spec.passed(f"Assertion {quoted(assertion.id)} has one AuthnStatement.", **where)
        else:
            yield spec.fail(f"Assertion {quoted(assertion.id)} has `{count}` AuthnStatements.", **where)

    yield from each_assertion(ctx, spec, judge)


@check(id="SAML021", title="Attribute name appears more than once", severity=Severity.MEDIUM,
       requires={Need.RESPONSE}, docs=SPEC,
       remediation="Remove the duplicate attribute mapping in the IdP app, or put all values in one attribute.")
def no_duplicate_attributes(ctx: DiagContext, spec: CheckSpec) -> Iterator[Finding]:
    """Repeating an Attribute Name splits its values across elements; python3-saml and ruby-saml reject it
    (DUPLICATED_ATTRIBUTE_NAME_FOUND, code 41), and mappers that read the first one lose values.
    """

    def judge(msg: SamlMessage, assertion: Assertion, locator: str) -> Iterator[Finding]:
        where = dict(source=msg.source, locator=f"{locator}/AttributeStatement")
        counts = Counter(a.name for a in assertion.attributes)
        duplicated = sorted(name for name, n in counts.items() if n > 1)
        if duplicated:
            names = ", ".join(f"{quoted(n)} ({counts[n]} times)" for n in duplicated)
            yield spec.fail(f"Assertion {quoted(assertion.id)} repeats attribute {names}.",
                            seen=", ".join(duplicated), **where)
        else:
            yield spec.passed(f"Assertion {quoted(assertion.id)} names each of its {len(counts)} attributes once.",
                              **where)

    yield from each_assertion(ctx, spec, judge)
