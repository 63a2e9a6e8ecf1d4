"""Data, no checks: the SAML status codes and, for each, what it means and what to change."""
from __future__ import annotations

STATUS_PREFIX = "urn:oasis:names:tc:SAML:2.0:status:"

# SAML core §3.2.2.2: what each status code means to a support engineer, and what to change.
STATUS_MEANINGS: dict[str, tuple[str, str]] = {
    "Requester": ("the IdP rejected the request as wrong on the SP's side (the AuthnRequest, or how the SP is set "
                  "up in the IdP)", "Check the Atlan app's configuration in the IdP (entity ID, ACS URL, NameID "
                  "format) against Atlan's SSO page."),
    "Responder": ("the IdP failed on its own side (a user, policy or IdP configuration problem)",
                  "Look up this login in the IdP's sign-in log; the sub-code and StatusMessage narrow it down."),
    "VersionMismatch": ("the IdP does not accept the SAML version of the request",
                        "Make the SP send SAML 2.0 requests."),
    "AuthnFailed": ("the IdP could not authenticate the user (wrong credentials, failed MFA, or a blocked account)",
                    "Check the IdP sign-in log for this user; retry the login at the IdP directly."),
    "InvalidAttrNameOrValue": ("an attribute name or value in the request was not accepted",
                               "Remove or correct the attributes the SP requests."),
    "InvalidNameIDPolicy": ("the IdP cannot issue a NameID in the format the SP asked for in NameIDPolicy",
                            "Align the NameID format in Atlan's SAML settings with the IdP app's NameID format, "
                            "or ask for `unspecified`."),
    "NoAuthnContext": ("the IdP cannot meet the authentication context the SP requested (RequestedAuthnContext)",
                       "Stop sending RequestedAuthnContext, or request a context the IdP supports."),
    "NoAvailableIDP": ("a proxying IdP found no available IdP for the user",
                       "Check the IdP's federation or discovery settings."),
    "NoPassive": ("the SP asked for passive login (IsPassive) but the user has no IdP session and must interact",
                  "Sign in at the IdP first, or make the SP stop sending IsPassive=\"true\"."),
    "NoSupportedIDP": ("a proxying IdP supports none of the IdPs the request allows",
                       "Check the IdP's federation or discovery settings."),
    "PartialLogout": ("logout did not reach every session participant",
                      "Retry the logout; check single logout endpoints."),
    "ProxyCountExceeded": ("the request may not be proxied any further",
                           "Raise the ProxyCount or authenticate at the first IdP."),
    "RequestDenied": ("the IdP chose not to answer, typically because the user is not assigned to the app or a "
                      "policy blocked the login", "Assign the user (or a group) to the Atlan app in the IdP and check "
                      "its access policies."),
    "RequestUnsupported": ("the IdP does not support this kind of request",
                           "Compare the AuthnRequest with what the IdP app supports."),
    "RequestVersionDeprecated": ("the IdP no longer accepts this protocol version", "Send SAML 2.0 requests."),
    "RequestVersionTooHigh": ("the request's protocol version is newer than the IdP supports",
                              "Send SAML 2.0 requests."),
    "RequestVersionTooLow": ("the request's protocol version is older than the IdP supports",
                             "Send SAML 2.0 requests."),
    "ResourceNotRecognized": ("the IdP does not recognise the resource named in the request",
                              "Check the RelayState / target resource of the login."),
    "TooManyResponses": ("the response would contain more elements than the IdP can return",
                         "Narrow the request."),
    "UnknownAttrProfile": ("the IdP does not support the attribute profile the request uses",
                           "Use the basic or URI attribute name format."),
    "UnknownPrincipal": ("the IdP does not know the user (principal) named in the request",
                         "Check that the user exists in the IdP and is the one the request names."),
    "UnsupportedBinding": ("the IdP cannot answer over the binding the request asks for (ProtocolBinding)",
                           "Make the SP ask for HTTP-POST, which Atlan's Keycloak broker receives."),
}
