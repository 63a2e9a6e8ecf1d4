"""A test identity provider: keys generated at test time, SAML messages built and signed on demand.

Every fixture in the suite comes from here, so no opaque signed blob is committed. Keys are cached per
(type, size, name) for the whole test session: RSA generation costs ~50 ms (2048) to ~1 s (4096), signing with a
key object ~0.6 ms (signxml given a PEM string re-validates the key, ~28 ms per call).

Defaults make a fully valid, strict-validator-clean Response for SP ``SP_ENTITY_ID`` / ACS ``ACS_URL`` issued
"now": Signature right after Issuer (SAML core §5.4.1 and the XSD order python3-saml's strict mode checks),
exclusive C14N (SAML core §5.4.3), one bearer SubjectConfirmation (SAML profiles §4.1.4.2).
"""
from __future__ import annotations

import base64
import datetime as dt
import uuid
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import xmlsec
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from lxml import etree
from signxml import XMLSigner
from signxml.algorithms import CanonicalizationMethod, DigestAlgorithm, SignatureMethod

from ssodiag.diag.xmlparse import NS, parse_xml

SP_ENTITY_ID = "https://sp.example.test/metadata"
ACS_URL = "https://sp.example.test/acs"
IDP_ENTITY_ID = "https://idp.example.test/metadata"
SSO_URL = "https://idp.example.test/sso"

STATUS_PREFIX = "urn:oasis:names:tc:SAML:2.0:status:"
NAMEID_EMAIL = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
BEARER = "urn:oasis:names:tc:SAML:2.0:cm:bearer"
PASSWORD_PROTECTED = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"
BINDING_POST = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
BINDING_REDIRECT = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
ATTRNAME_BASIC = "urn:oasis:names:tc:SAML:2.0:attrname-format:basic"
EXC_C14N = CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0

SIGNATURE_ALGORITHMS = {
    "rsa-sha1": SignatureMethod.RSA_SHA1,
    "rsa-sha256": SignatureMethod.RSA_SHA256,
    "rsa-sha384": SignatureMethod.RSA_SHA384,
    "rsa-sha512": SignatureMethod.RSA_SHA512,
    "ecdsa-sha256": SignatureMethod.ECDSA_SHA256,
}
DIGEST_ALGORITHMS = {
    "sha1": DigestAlgorithm.SHA1,
    "sha256": DigestAlgorithm.SHA256,
    "sha384": DigestAlgorithm.SHA384,
    "sha512": DigestAlgorithm.SHA512,
}

_KEYS: dict[tuple[str, int, str], Any] = {}
_DEFAULT = object()  # "use the default"; None means "omit the attribute/element"


def cached_key(key_type: str = "rsa", key_bits: int = 2048, name: str = "default"):
    """A private key, generated once per (type, size, name) for the test session."""
    slot = (key_type, key_bits, name)
    if slot not in _KEYS:
        if key_type == "rsa":
            _KEYS[slot] = rsa.generate_private_key(public_exponent=65537, key_size=key_bits)
        elif key_type == "ec":
            _KEYS[slot] = ec.generate_private_key(ec.SECP256R1())
        else:
            raise ValueError(f"unknown key type {key_type}")
    return _KEYS[slot]


def make_certificate(key, common_name: str, not_before: dt.datetime, not_after: dt.datetime,
                     hash_algorithm: hashes.HashAlgorithm | None = None) -> x509.Certificate:
    """A self-signed certificate, as IdPs publish them in metadata (no chain: trust is by pinning)."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "ssodiag tests")])
    return (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(not_before).not_valid_after(not_after)
            .sign(key, hash_algorithm or hashes.SHA256()))


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


def saml_time(value: dt.datetime | str) -> str:
    """xs:dateTime in UTC with a Z, as SAML core §1.3.3 requires."""
    if isinstance(value, str):
        return value
    return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_id() -> str:
    # xs:ID must not start with a digit (SAML core §1.3.4), hence the underscore.
    return "_" + uuid.uuid4().hex


def _attr(name: str, value: Any) -> str:
    """` name="value"` or nothing when value is None."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = saml_time(value)
    return f" {name}={quoteattr(str(value))}"


def _status_urn(code: str | None) -> str | None:
    if code is None or code.startswith("urn:"):
        return code
    return STATUS_PREFIX + code


class _SHA1CapableSigner(XMLSigner):
    """signxml refuses SHA-1 by default; the fixtures need SHA-1 signatures to test that we flag them."""

    def check_deprecated_methods(self) -> None:
        return None


class TestIdP:
    __test__ = False  # not a test class, despite the name

    def __init__(self, entity_id: str = IDP_ENTITY_ID, key_bits: int = 2048, cert_valid_from: dt.datetime | None = None,
                 cert_valid_to: dt.datetime | None = None, key_type: str = "rsa", key_name: str = "default",
                 common_name: str = "idp.example.test", cert_hash: hashes.HashAlgorithm | None = None) -> None:
        """``key_name`` picks a different cached key (an attacker, a rollover successor) of the same size."""
        self.entity_id = entity_id
        self.key_type = key_type
        self.key = cached_key(key_type, key_bits, key_name)
        now = utc_now()
        valid_from = cert_valid_from or now - dt.timedelta(days=1)
        valid_to = cert_valid_to or now + dt.timedelta(days=365)
        self.cert = make_certificate(self.key, common_name, valid_from, valid_to, cert_hash)
        self.cert_pem = self.cert.public_bytes(serialization.Encoding.PEM).decode()
        self.cert_der = self.cert.public_bytes(serialization.Encoding.DER)
        self.cert_b64 = base64.b64encode(self.cert_der).decode()
        self.key_pem = self.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                              serialization.NoEncryption())

    # ------------------------------------------------------------------ Response
    def response(self, **fields: Any) -> bytes:
        """An UNSIGNED samlp:Response; every field is overridable, None omits an optional attribute/element."""
        f = self._response_defaults()
        unknown = set(fields) - set(f)
        if unknown:
            raise TypeError(f"unknown response fields: {sorted(unknown)}")
        f.update(fields)
        status = self._status_xml(f)
        assertions = "".join(self._assertion_xml(f, index) for index in range(f["assertions"]))
        issuer = f'<saml:Issuer>{escape(f["issuer"])}</saml:Issuer>' if f["issuer"] is not None else ""
        xml = (
            f'<samlp:Response xmlns:samlp="{NS["samlp"]}" xmlns:saml="{NS["saml"]}"'
            f'{_attr("ID", f["response_id"])}{_attr("Version", f["version"])}'
            f'{_attr("IssueInstant", f["issue_instant"])}{_attr("Destination", f["destination"])}'
            f'{_attr("InResponseTo", f["in_response_to"])}>'
            f'{issuer}{status}{assertions}</samlp:Response>'
        )
        return xml.encode()

    def _response_defaults(self) -> dict[str, Any]:
        now = utc_now()
        return {
            "response_id": new_id(), "assertion_id": new_id(), "issuer": self.entity_id, "assertion_issuer": _DEFAULT,
            "destination": ACS_URL, "in_response_to": "_request-1", "issue_instant": now, "status_code": "Success",
            "sub_code": None, "status_message": None, "name_id": "alice@example.test", "name_id_format": NAMEID_EMAIL,
            "sp_name_qualifier": None, "audiences": [SP_ENTITY_ID], "audience_restrictions": None,
            "not_before": now - dt.timedelta(minutes=5),
            "not_on_or_after": now + dt.timedelta(minutes=5), "sc_method": BEARER, "recipient": ACS_URL,
            "sc_not_on_or_after": now + dt.timedelta(minutes=5), "sc_in_response_to": _DEFAULT,
            "attributes": {"email": ["alice@example.test"], "firstName": ["Alice"], "lastName": ["Liddell"],
                           "memberOf": ["engineering"]},
            "authn_statements": 1, "session_not_on_or_after": None, "assertions": 1, "include_conditions": True,
            "include_subject": True, "version": "2.0", "extra_assertion_xml": "",
        }

    @staticmethod
    def _status_xml(f: dict[str, Any]) -> str:
        code = _status_urn(f["status_code"])
        if code is None:
            return ""
        sub = f'<samlp:StatusCode{_attr("Value", _status_urn(f["sub_code"]))}/>' if f["sub_code"] else ""
        message = (f'<samlp:StatusMessage>{escape(f["status_message"])}</samlp:StatusMessage>'
                   if f["status_message"] is not None else "")
        return f'<samlp:Status><samlp:StatusCode{_attr("Value", code)}>{sub}</samlp:StatusCode>{message}</samlp:Status>'

    def _assertion_xml(self, f: dict[str, Any], index: int) -> str:
        assertion_id = f["assertion_id"] if index == 0 else new_id()
        issuer = f["issuer"] if f["assertion_issuer"] is _DEFAULT else f["assertion_issuer"]
        sc_irt = f["in_response_to"] if f["sc_in_response_to"] is _DEFAULT else f["sc_in_response_to"]
        parts = [f'<saml:Issuer>{escape(issuer)}</saml:Issuer>' if issuer is not None else ""]
        if f["include_subject"]:
            name_id = ""
            if f["name_id"] is not None:
                name_id = (f'<saml:NameID{_attr("Format", f["name_id_format"])}'
                           f'{_attr("SPNameQualifier", f["sp_name_qualifier"])}>{escape(f["name_id"])}</saml:NameID>')
            confirmation = ""
            if f["sc_method"] is not None:
                confirmation = (
                    f'<saml:SubjectConfirmation{_attr("Method", f["sc_method"])}><saml:SubjectConfirmationData'
                    f'{_attr("NotOnOrAfter", f["sc_not_on_or_after"])}{_attr("Recipient", f["recipient"])}'
                    f'{_attr("InResponseTo", sc_irt)}/></saml:SubjectConfirmation>'
                )
            parts.append(f"<saml:Subject>{name_id}{confirmation}</saml:Subject>")
        if f["include_conditions"]:
            # ``audiences`` is one AudienceRestriction; ``audience_restrictions`` (a list of lists) several
            restrictions = f["audience_restrictions"]
            if restrictions is None:
                restrictions = [f["audiences"]] if f["audiences"] else []
            restriction = "".join(
                "<saml:AudienceRestriction>" + "".join(f"<saml:Audience>{escape(a)}</saml:Audience>" for a in r)
                + "</saml:AudienceRestriction>" for r in restrictions)
            parts.append(f'<saml:Conditions{_attr("NotBefore", f["not_before"])}'
                         f'{_attr("NotOnOrAfter", f["not_on_or_after"])}>{restriction}</saml:Conditions>')
        for _ in range(f["authn_statements"]):
            parts.append(
                f'<saml:AuthnStatement{_attr("AuthnInstant", f["issue_instant"])} SessionIndex="{new_id()}"'
                f'{_attr("SessionNotOnOrAfter", f["session_not_on_or_after"])}><saml:AuthnContext>'
                f'<saml:AuthnContextClassRef>{PASSWORD_PROTECTED}</saml:AuthnContextClassRef>'
                f'</saml:AuthnContext></saml:AuthnStatement>'
            )
        if f["attributes"]:
            attrs = "".join(
                f'<saml:Attribute Name={quoteattr(name)} NameFormat="{ATTRNAME_BASIC}">'
                + "".join(f"<saml:AttributeValue>{escape(v)}</saml:AttributeValue>" for v in values)
                + "</saml:Attribute>"
                for name, values in f["attributes"].items()
            )
            parts.append(f"<saml:AttributeStatement>{attrs}</saml:AttributeStatement>")
        parts.append(f["extra_assertion_xml"])
        return (f'<saml:Assertion xmlns:saml="{NS["saml"]}"{_attr("ID", assertion_id)}{_attr("Version", f["version"])}'
                f'{_attr("IssueInstant", f["issue_instant"])}>{"".join(parts)}</saml:Assertion>')

    # ------------------------------------------------------------------ signing
    def sign(self, xml: bytes, *, what: str = "assertion", algorithm: str | None = None,
             digest: str = "sha256") -> bytes:
        """Sign the Assertion(s), the Response, or both (assertion first, so the Response signature covers it)."""
        if what not in ("assertion", "response", "both"):
            raise ValueError(f"what must be assertion, response or both, not {what!r}")
        algorithm = algorithm or ("ecdsa-sha256" if self.key_type == "ec" else "rsa-sha256")
        signer_cls = _SHA1CapableSigner if "sha1" in (algorithm + digest) else XMLSigner
        signer = signer_cls(signature_algorithm=SIGNATURE_ALGORITHMS[algorithm],
                            digest_algorithm=DIGEST_ALGORITHMS[digest], c14n_algorithm=EXC_C14N)
        root = parse_xml(xml)
        if what in ("assertion", "both"):
            for assertion_id in root.xpath("saml:Assertion/@ID", namespaces=NS):
                target = root.xpath("saml:Assertion[@ID=$id]", id=assertion_id, namespaces=NS)[0]
                root = self._sign_element(signer, root, target)
        if what in ("response", "both"):
            root = self._sign_element(signer, root, root)
        return etree.tostring(root)

    def _sign_element(self, signer: XMLSigner, root: etree._Element, target: etree._Element) -> etree._Element:
        placeholder = etree.Element(f'{{{NS["ds"]}}}Signature', Id="placeholder", nsmap={"ds": NS["ds"]})
        issuer = target.find("saml:Issuer", namespaces=NS)
        if issuer is not None:
            issuer.addnext(placeholder)
        else:
            target.insert(0, placeholder)
        return signer.sign(root, key=self.key, cert=[self.cert], reference_uri="#" + target.get("ID"))

    def signed_response(self, what: str = "assertion", **fields: Any) -> bytes:
        return self.sign(self.response(**fields), what=what)

    # ------------------------------------------------------------------ AuthnRequest
    def authn_request(self, **fields: Any) -> bytes:
        """An SP's AuthnRequest (unsigned) addressed to this IdP."""
        f = {"id": new_id(), "issuer": SP_ENTITY_ID, "acs_url": ACS_URL, "destination": SSO_URL,
             "issue_instant": utc_now(), "protocol_binding": BINDING_POST, "name_id_policy_format": NAMEID_EMAIL,
             "requested_authn_context": [], "force_authn": None, "is_passive": None, "version": "2.0"}
        unknown = set(fields) - set(f)
        if unknown:
            raise TypeError(f"unknown authn_request fields: {sorted(unknown)}")
        f.update(fields)
        flag = {True: "true", False: "false", None: None}
        issuer = f'<saml:Issuer>{escape(f["issuer"])}</saml:Issuer>' if f["issuer"] is not None else ""
        policy = (f'<samlp:NameIDPolicy Format={quoteattr(f["name_id_policy_format"])} AllowCreate="true"/>'
                  if f["name_id_policy_format"] else "")
        context = ""
        if f["requested_authn_context"]:
            refs = "".join(f"<saml:AuthnContextClassRef>{escape(r)}</saml:AuthnContextClassRef>"
                           for r in f["requested_authn_context"])
            context = f'<samlp:RequestedAuthnContext Comparison="exact">{refs}</samlp:RequestedAuthnContext>'
        return (
            f'<samlp:AuthnRequest xmlns:samlp="{NS["samlp"]}" xmlns:saml="{NS["saml"]}"{_attr("ID", f["id"])}'
            f'{_attr("Version", f["version"])}{_attr("IssueInstant", f["issue_instant"])}'
            f'{_attr("Destination", f["destination"])}{_attr("AssertionConsumerServiceURL", f["acs_url"])}'
            f'{_attr("ProtocolBinding", f["protocol_binding"])}{_attr("ForceAuthn", flag[f["force_authn"]])}'
            f'{_attr("IsPassive", flag[f["is_passive"]])}>{issuer}{policy}{context}</samlp:AuthnRequest>'
        ).encode()

    def sign_request(self, xml: bytes, *, algorithm: str = "rsa-sha256", digest: str = "sha256") -> bytes:
        """Sign an AuthnRequest / LogoutRequest root (SP side in real life; same XML-DSig rules)."""
        signer_cls = _SHA1CapableSigner if "sha1" in (algorithm + digest) else XMLSigner
        signer = signer_cls(signature_algorithm=SIGNATURE_ALGORITHMS[algorithm],
                            digest_algorithm=DIGEST_ALGORITHMS[digest], c14n_algorithm=EXC_C14N)
        root = parse_xml(xml)
        return etree.tostring(self._sign_element(signer, root, root))

    # ------------------------------------------------------------------ metadata
    def metadata(self, **fields: Any) -> bytes:
        """IdP EntityDescriptor (SAML metadata §2.4.3) with signing cert(s) and SSO endpoints."""
        f = {"entity_id": self.entity_id, "valid_until": None, "cache_duration": None,
             "signing_certs": [self.cert_b64], "encryption_certs": [], "sso_post": SSO_URL, "sso_redirect": SSO_URL,
             "slo_redirect": None, "name_id_formats": [NAMEID_EMAIL], "want_authn_requests_signed": None}
        unknown = set(fields) - set(f)
        if unknown:
            raise TypeError(f"unknown metadata fields: {sorted(unknown)}")
        f.update(fields)

        def key_descriptor(use: str, cert_b64: str) -> str:
            return (f'<md:KeyDescriptor use="{use}"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{cert_b64}'
                    f'</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>')

        keys = "".join(key_descriptor("signing", c) for c in f["signing_certs"])
        keys += "".join(key_descriptor("encryption", c) for c in f["encryption_certs"])
        slo = (f'<md:SingleLogoutService Binding="{BINDING_REDIRECT}" Location={quoteattr(f["slo_redirect"])}/>'
               if f["slo_redirect"] else "")
        formats = "".join(f"<md:NameIDFormat>{escape(n)}</md:NameIDFormat>" for n in f["name_id_formats"])
        sso = ""
        if f["sso_redirect"]:
            sso += f'<md:SingleSignOnService Binding="{BINDING_REDIRECT}" Location={quoteattr(f["sso_redirect"])}/>'
        if f["sso_post"]:
            sso += f'<md:SingleSignOnService Binding="{BINDING_POST}" Location={quoteattr(f["sso_post"])}/>'
        want = {True: "true", False: "false", None: None}[f["want_authn_requests_signed"]]
        return (
            f'<md:EntityDescriptor xmlns:md="{NS["md"]}" xmlns:ds="{NS["ds"]}"{_attr("entityID", f["entity_id"])}'
            f'{_attr("validUntil", f["valid_until"])}{_attr("cacheDuration", f["cache_duration"])}>'
            f'<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"'
            f'{_attr("WantAuthnRequestsSigned", want)}>{keys}{slo}{formats}{sso}</md:IDPSSODescriptor>'
            f'</md:EntityDescriptor>'
        ).encode()

    # ------------------------------------------------------------------ encryption
    def encrypt_assertion(self, response_xml: bytes, sp_cert_pem: str, *, data_algorithm: str = "aes256-cbc",
                          key_algorithm: str = "rsa-oaep") -> bytes:
        """Replace each saml:Assertion with a saml:EncryptedAssertion (SAML core §2.3.4) for the SP's cert.

        Sign before encrypting (``sign(..., what="assertion")`` then this) as IdPs do: the signature lives
        inside the encrypted assertion.
        """
        root = parse_xml(response_xml)
        for assertion in root.xpath("saml:Assertion", namespaces=NS):
            _encrypt_element(root, assertion, "EncryptedAssertion", sp_cert_pem, data_algorithm, key_algorithm)
        return etree.tostring(root)

    def encrypt_name_id(self, response_xml: bytes, sp_cert_pem: str) -> bytes:
        """Replace each Subject's NameID with a saml:EncryptedID (SAML core §2.2.4)."""
        root = parse_xml(response_xml)
        for name_id in root.xpath("saml:Assertion/saml:Subject/saml:NameID", namespaces=NS):
            _encrypt_element(root, name_id, "EncryptedID", sp_cert_pem, "aes128-cbc", "rsa-oaep")
        return etree.tostring(root)


def _encrypt_element(root: etree._Element, element: etree._Element, wrapper_name: str, sp_cert_pem: str,
                     data_algorithm: str, key_algorithm: str) -> None:
    """XML Encryption of ``element`` in place, wrapped in saml:<wrapper_name>, session key RSA-wrapped to the SP."""
    data_transform = {"aes128-cbc": xmlsec.Transform.AES128, "aes256-cbc": xmlsec.Transform.AES256,
                      "aes128-gcm": xmlsec.Transform.AES128_GCM, "aes256-gcm": xmlsec.Transform.AES256_GCM}
    key_transform = {"rsa-oaep": xmlsec.Transform.RSA_OAEP, "rsa-1_5": xmlsec.Transform.RSA_PKCS1}
    manager = xmlsec.KeysManager()
    manager.add_key(xmlsec.Key.from_memory(sp_cert_pem.encode(), xmlsec.KeyFormat.CERT_PEM, None))
    wrapper = etree.Element(f'{{{NS["saml"]}}}{wrapper_name}', nsmap={"saml": NS["saml"]})
    element.addprevious(wrapper)
    wrapper.append(element)
    template = xmlsec.template.encrypted_data_create(
        root, data_transform[data_algorithm], type=xmlsec.EncryptionType.ELEMENT, ns="xenc")
    xmlsec.template.encrypted_data_ensure_cipher_value(template)
    key_info = xmlsec.template.encrypted_data_ensure_key_info(template, ns="dsig")
    encrypted_key = xmlsec.template.add_encrypted_key(key_info, key_transform[key_algorithm])
    xmlsec.template.encrypted_data_ensure_cipher_value(encrypted_key)
    context = xmlsec.EncryptionContext(manager)
    session_bits = 128 if "128" in data_algorithm else 256
    context.key = xmlsec.Key.generate(xmlsec.KeyData.AES, session_bits, xmlsec.KeyDataType.SESSION)
    context.encrypt_xml(template, element)


def sp_keypair(name: str = "sp") -> tuple[bytes, str]:
    """(SP private key PEM, SP certificate PEM) for encryption tests."""
    key = cached_key("rsa", 2048, name)
    now = utc_now()
    cert = make_certificate(key, "sp.example.test", now - dt.timedelta(days=1), now + dt.timedelta(days=365))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return key_pem, cert.public_bytes(serialization.Encoding.PEM).decode()
