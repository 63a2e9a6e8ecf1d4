"""The model's vocabulary: the ``str`` Enums findings, messages and options are named with.

Kept apart from ``diag.model`` (34 records, and msgspec) so that the command line can type its options
(``--connector``, ``--fail-on``) without loading the model: ``ssodiag --help`` stays light. ``diag.model`` re-exports
every name.
"""
from __future__ import annotations

import enum


class Severity(str, enum.Enum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"

    @property
    def rank(self) -> int:
        """Higher is worse; used by ``--fail-on`` and to sort findings."""
        return _SEVERITY_RANK[self]


_SEVERITY_RANK = {Severity.CRITICAL: 4, Severity.HIGH: 3, Severity.MEDIUM: 2, Severity.LOW: 1, Severity.INFO: 0}


class Status(str, enum.Enum):
    FAIL = "fail"
    WARN = "warn"
    PASS = "pass"
    SKIP = "skip"  # the check could not decide (missing input or undecidable); never a pass
    ERROR = "error"  # the check itself crashed; the run went on


class Connector(str, enum.Enum):
    GENERIC = "generic"
    PINGFEDERATE = "pingfederate"
    OKTA = "okta"
    GOOGLE = "google"
    DEFENDER = "defender"
    ENTRA = "entra"


class InputKind(str, enum.Enum):
    """What an evidence file turned out to be (auto-detected, never declared by the user)."""

    SAML_MESSAGE = "saml-message"
    HAR = "har"
    SAML_TRACER = "saml-tracer"
    METADATA = "metadata"
    CERTIFICATE = "certificate"
    ERROR_PAGE = "error-page"
    URL = "url"  # a URL without a SAML message (a launch link such as PingFederate's startSSO.ping)


class MessageKind(str, enum.Enum):
    RESPONSE = "Response"
    AUTHN_REQUEST = "AuthnRequest"
    LOGOUT_REQUEST = "LogoutRequest"
    LOGOUT_RESPONSE = "LogoutResponse"


class SignatureVerdict(str, enum.Enum):
    VALID = "valid"
    INVALID = "invalid"
    ABSENT = "absent"
    WRAPPING = "wrapping"
    UNTRUSTED = "untrusted"
    UNSUPPORTED = "unsupported"
    NOT_CHECKED = "not-checked"


class Initiation(str, enum.Enum):
    """Who started the login seen in a capture."""

    SP = "sp"  # a Response answers an AuthnRequest of the capture
    IDP = "idp"  # a Response answers nothing (unsolicited, SAML profiles §4.1.5)
    UNKNOWN = "unknown"  # e.g. the AuthnRequest was not captured


class VerdictStatus(str, enum.Enum):
    """The run's one-word answer; "pass" is only given when every signed message verified with trusted keys."""

    FAIL = "fail"
    WARN = "warn"
    INCONCLUSIVE = "inconclusive"
    INCOMPLETE = "incomplete"  # an input could not be read: what was read looks fine, but not everything was
    PASS = "pass"
