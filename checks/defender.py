"""MDA: Microsoft Defender for Cloud Apps' session proxy (Conditional Access App Control) in front of Atlan's login.

The proxy rewrites every host to `<host>.mcas.ms` (`.mcas-gov.us`, `.mcas-gov.ms` in government clouds). A login
that passes through it fails in its own ways: SAML addressed to the proxied host, an app the proxy does not know,
cookies split between the proxied and the real host. When the proxy is in the capture it is the detected
connector, ahead of the IdP (usually Entra ID) whose login it carried. The declaration below is everything
ssodiag knows about it.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from types import MappingProxyType
from urllib.parse import urlsplit

from ssodiag.checks.common import page_checks, vendor_page_findings
from ssodiag.diag.connectors import ConnectorDeclaration, Signal, SignalKind, VendorError, declare, phrase, tenant
from ssodiag.diag.context import DiagContext
from ssodiag.diag.lazyre import LazyRegex
from ssodiag.diag.model import Connector, Finding, Severity
from ssodiag.diag.registry import CheckSpec, Need, check
from ssodiag.diag.text import quoted

MDA_TROUBLESHOOTING = "https://learn.microsoft.com/en-us/defender-cloud-apps/troubleshooting-proxy"
MDA_PROXY_URL = "https://learn.microsoft.com/defender-cloud-apps/troubleshooting-proxy-url"
# The proxy's host rewrite: `<host>.mcas.ms`, and `.mcas-gov.us` / `.mcas-gov.ms` in government clouds.
PROXY_SUFFIX = LazyRegex(r"\.(?:mcas\.ms|mcas-gov\.us|mcas-gov\.ms)$", re.I)

CA_APPS = "Microsoft Defender portal → Settings → Cloud Apps → Connected apps → Conditional Access App Control apps"
BYPASS = ("To confirm the proxy is the cause, have an admin use \"Bypass session\" (or exclude Atlan from the "
          "session policy) and retry the login.")
ONBOARD = (CA_APPS + ": Atlan's status must be Connected (for a non-Microsoft IdP, with its duplicate custom SAML "
           "app); Edit app → User-defined domains must include `{atlan_host}`.")

DEFENDER = declare(ConnectorDeclaration(
    connector=Connector.DEFENDER,
    title="Defender for Cloud Apps",
    docs=MDA_TROUBLESHOOTING,
    rank=1,  # a proxy in the login changed it: it leads ahead of the IdP it proxied
    signals=(
        Signal(SignalKind.URL, "a Defender for Cloud Apps proxy host",
               re.compile(r"^https?://[^/?#]+\.(?:mcas\.ms|mcas-gov\.us|mcas-gov\.ms)(?::\d+)?(?:[/?#]|$)", re.I), 3),
        Signal(SignalKind.PARAM, "a Defender for Cloud Apps proxy parameter", LazyRegex(r"^Mcas(?:Tsid|CSRF)$", re.I),
               3),
        Signal(SignalKind.COOKIE, "a Defender for Cloud Apps proxy cookie", LazyRegex(r"^Mcas", re.I), 3),
    ),
    errors=(
        VendorError(
            "App is not recognized", phrase("App is not recognized"),
            "The Defender proxy does not know Atlan: the app is not onboarded to Conditional Access App Control.",
            ("Atlan is a custom (non-catalog) app that was never added", "Atlan's domain is not a user-defined domain"),
            CA_APPS + " → View new apps → Atlan → Add; then Edit app → User-defined domains includes `{atlan_host}`.",
            "MDA002", MDA_TROUBLESHOOTING),
        VendorError(
            "Continue Setup", phrase("Continue Setup"),
            "The app's onboarding in Conditional Access App Control is unfinished; with a non-Microsoft IdP the proxy "
            "needs a duplicate custom SAML app in the IdP.",
            ("the duplicate custom SAML app for Atlan is missing in the IdP",
             "the IdP forbids reusing the Entity ID, so the duplicate could not be created"),
            "Create the duplicate custom SAML app in the IdP (if the IdP does not allow the same Entity ID twice, "
            "change the identifier of the original app), finish the setup in " + CA_APPS + "; the status must be "
            "Connected.",
            "MDA003", MDA_TROUBLESHOOTING),
        VendorError(
            "Something Went Wrong", phrase("Something Went Wrong"),
            "The Defender proxy failed to serve the session; Microsoft's proxy troubleshooting applies.",
            ("the app is not fully onboarded", "the proxy cannot handle part of the app", "an outage (then \"Default "
             "behavior\" Allow/Block applies)"),
            BYPASS + " Then follow Microsoft's proxy troubleshooting for the app.",
            "MDA004", MDA_TROUBLESHOOTING, names_vendor=False),
        VendorError(
            "no apps deployed", phrase("You don't have any apps deployed with Conditional Access App Control"),
            "The session policy targets apps, but no app is deployed with Conditional Access App Control.",
            ("Atlan was not deployed (onboarded) with Conditional Access App Control",),
            CA_APPS + ": add Atlan and finish its setup (status Connected).",
            "MDA005", MDA_TROUBLESHOOTING),
        VendorError(
            "double login", phrase(raw=r"(?:log|sign)(?:ged)?[\s-]*in\s+twice|double\s+(?:login|sign[\s-]*in)"
                                       r"|prompted\s+(?:to\s+(?:log|sign)\s+in\s+)?twice"),
            "Users are asked to sign in twice through the proxy: the proxy's nonce handling conflicts with the app.",
            ("\"Enable nonce handling\" is on for the app",),
            CA_APPS + " → Atlan → Edit app → clear \"Enable nonce handling\".",
            "MDA006", MDA_TROUBLESHOOTING, names_vendor=False),
        VendorError(
            "deep link lands on home page",
            phrase(raw=r"deep[\s-]*link\w*.{0,80}?(?:home\s*page|landing\s*page|start\s*page)"
                       r"|(?:lands?|landed|redirect\w*)\s+(?:on|to)\s+the\s+home\s*page"),
            "A link to a page inside Atlan opens Atlan's home page instead: the proxy loses the original URL during "
            "the login (a documented limitation).",
            ("the login through the proxy drops the deep link's context",),
            "A documented limitation of the proxy: open the link again after signing in, or exclude Atlan from the "
            "session policy. " + BYPASS,
            "MDA007", MDA_TROUBLESHOOTING, names_vendor=False),
        VendorError(
            "download blocked", phrase(raw=r"download\w*\s+(?:was\s+|is\s+|has\s+been\s+)?blocked|blocked\s+(?:the\s+)?"
                                           r"download"),
            "A session policy blocks downloads through the proxy.",
            ("a session policy with the action \"Block downloads\" (Control file download)",),
            "Microsoft Defender portal → Cloud Apps → Activity log: filter Applied action = Blocked to find the "
            "policy; change it in Policies → Policy management → the session policy.",
            "MDA008", MDA_TROUBLESHOOTING, names_vendor=False),
        VendorError(
            "Cookie not found", phrase("Cookie not found. Please make sure cookies are enabled in your browser."),
            "Atlan's login lost its session cookie: with the proxy in the login, part of it ran on the proxied host "
            "(`….mcas.ms`) and part on Atlan's own host, and the cookie set on one is not sent to the other "
            "(an inference: no public source states it).",
            ("the login started on one host and the SAML Response was posted to the other",),
            "Keep the whole login on one host: onboard Atlan so the proxy rewrites it consistently, or bypass the "
            "proxy for Atlan. " + BYPASS,
            "MDA009", MDA_TROUBLESHOOTING, shown_by="Atlan's login (Keycloak), through the Defender proxy"),
    ),
    mapping_row="",
    # the Destination check (a proxied host) and the auth-session lookup (a cookie left on the other host)
    broker_steps=MappingProxyType({"MDA001": 6, "MDA009": 8}),
    proxy_host_suffix=PROXY_SUFFIX,
    console=MappingProxyType({
        "apps": CA_APPS,
        "new_apps": "View new apps",
        "domains": "User-defined domains",
        "nonce": "Enable nonce handling",
        "bypass": "Bypass session",
        "activity_log": "Activity log → Applied action",
    }),
    fixes=MappingProxyType({
        "SAML013": "the Destination names the proxied host; " + BYPASS,
        "SAML010": "the Recipient names the proxied host; " + BYPASS,
        "REQ003": "the ACS URL names the proxied host; " + BYPASS,
        "KC001": BYPASS,
    }),
))

page_checks(Connector.DEFENDER, (
    ("MDA002", "Defender: Atlan is not onboarded to Conditional Access App Control (\"App is not recognized\")",
     Severity.HIGH),
    ("MDA003", "Defender: the app's setup is unfinished (\"Continue Setup\")", Severity.HIGH),
    ("MDA004", "Defender: the proxy failed (\"Something Went Wrong\")", Severity.HIGH),
    ("MDA005", "Defender: no app deployed with Conditional Access App Control", Severity.HIGH),
    ("MDA006", "Defender: users sign in twice (nonce handling)", Severity.MEDIUM),
    ("MDA007", "Defender: a deep link lands on Atlan's home page", Severity.LOW),
    ("MDA008", "Defender: a session policy blocks downloads", Severity.MEDIUM),
))


def _proxied(url: str | None) -> bool:
    try:
        return bool(url) and bool(PROXY_SUFFIX.search(urlsplit(url).hostname or ""))
    except ValueError:
        return False


@check(id="MDA001", title="Defender: SAML addressed to the proxied host (Destination / Recipient / Reply URL)",
       severity=Severity.HIGH, connector=Connector.DEFENDER, requires={Need.MESSAGE}, docs=MDA_PROXY_URL,
       remediation="Onboard Atlan in Conditional Access App Control so the proxy handles its login, or bypass the "
                   "proxy for Atlan; the IdP must address SAML to Atlan's own host.")
def proxied_saml_urls(ctx: DiagContext, spec: CheckSpec) -> Iterator[Finding]:
    """The proxy rewrites Atlan's host to `<host>.mcas.ms`; when Atlan's request or the IdP's Response names that
    proxied host (AssertionConsumerServiceURL, Destination, bearer Recipient), Keycloak's Destination check (or the
    IdP's Reply URL check, Entra AADSTS50011) fails, because the registered URLs are Atlan's own."""
    values = tenant(ctx)
    fix = values.fill(ONBOARD) + " " + BYPASS
    for msg in ctx.evidence.messages:
        named = [("AssertionConsumerServiceURL", msg.acs_url), ("Destination", msg.destination)]
        named += [("Recipient", sc.recipient) for a in msg.assertions for sc in a.subject_confirmations]
        proxied = [(what, url) for what, url in named if _proxied(url)]
        where = dict(source=msg.source, locator=f"{msg.kind.value}")
        if proxied:
            what, url = proxied[0]
            real = "https://" + PROXY_SUFFIX.sub("", urlsplit(url).hostname or "") + urlsplit(url).path
            yield spec.fail(f"The {msg.kind.value}'s {what} is {quoted(url)}: Atlan's host behind the Defender for "
                            f"Cloud Apps proxy; the registered URL is Atlan's own {quoted(real)}.",
                            expected=real, seen=url, remediation=fix, **where)
        else:
            yield spec.passed(f"The {msg.kind.value} names no proxied host.", **where)


@check(id="MDA009", title="Defender: Atlan's session cookie lost between the proxied and the real host "
                          "(\"Cookie not found\")",
       severity=Severity.HIGH, connector=Connector.DEFENDER, requires={Need.ERROR_PAGE}, docs=MDA_TROUBLESHOOTING,
       remediation="Keep the whole login on one host: onboard Atlan in Conditional Access App Control or bypass the "
                   "proxy for Atlan.")
def cookie_split(ctx: DiagContext, spec: CheckSpec) -> Iterator[Finding]:
    """Keycloak shows "Cookie not found" when the SAML Response reaches it without the auth-session cookie it set
    when the login started. Through the proxy this happens when the login hops between `acme.atlan.com.mcas.ms`
    and `acme.atlan.com`: a cookie of one host is not sent to the other (an inference, marked as such)."""
    hosts = {urlsplit(u).hostname or "" for u in ctx.evidence.urls}
    split = sorted(h for h in hosts if PROXY_SUFFIX.search(h) and PROXY_SUFFIX.sub("", h) in hosts)
    more = (f"The capture shows the login on both {quoted(split[0])} and {quoted(PROXY_SUFFIX.sub('', split[0]))}."
            if split else "")
    yield from vendor_page_findings(ctx, spec, Connector.DEFENDER, more)
