"""Decrypt EncryptedAssertion / EncryptedID / EncryptedAttribute with the SP's private key (``--sp-key``).

XML Encryption (SAML core §2.2.4, §2.3.4, §2.7.3.2) with python-xmlsec. The plaintext comes back as bytes and goes
through the one hardened parser (``parse_xml``: size cap, no DOCTYPE), never through xmlsec's own parse.

The result keeps ``raw_xml`` = the bytes as received, because a Response-level signature was computed over the
*encrypted* form (SAML core §5.2: sign, then encrypt; the Response signature covers the EncryptedAssertion); only
``root`` is the decrypted tree, on which assertion signatures are verified "like a plain document".
"""
from __future__ import annotations

import xmlsec
from lxml import etree
from msgspec.structs import replace

from ssodiag.diag.errors import InputError
from ssodiag.diag.text import error_text
from ssodiag.diag.model import Assertion, EncryptedPart, SamlMessage
from ssodiag.diag.saml import encrypted_part  # the parser's own description, so both agree
from ssodiag.diag.saml import parse_assertion
from ssodiag.diag.xmlparse import NS, local_name, parse_xml, quote_attribute

INNER_WRAPPERS = (f"{{{NS['saml']}}}EncryptedID", f"{{{NS['saml']}}}EncryptedAttribute")
# What each encrypted wrapper must decrypt to (SAML core §2.2.4 EncryptedID, §2.3.4, §2.7.3.2).
PLAINTEXT_OF = {"EncryptedAssertion": "Assertion", "EncryptedID": "NameID", "EncryptedAttribute": "Attribute"}
MAX_ENCRYPTED_PARTS = 64  # a hostile document cannot make us run thousands of RSA decryptions


def decrypt_message(message: SamlMessage, sp_key_pem: bytes) -> SamlMessage:
    """``message`` with its encrypted parts decrypted where the key fits; failures stay as EncryptedPart(error=...)."""
    try:
        root = parse_xml(message.raw_xml, message.source)  # a private copy: message.root is shared and stays as is
    except InputError:
        return message  # the parse failure is reported where the message was read
    try:
        key = xmlsec.Key.from_memory(sp_key_pem, xmlsec.KeyFormat.PEM, None)
    except (xmlsec.Error, ValueError, TypeError):
        error = "the --sp-key file is not a PEM private key xmlsec can read"
        return replace(message, encrypted_parts=tuple(replace(p, error=error) for p in message.encrypted_parts),
                       assertions=tuple(_mark_inner(a, error) for a in message.assertions))

    failed: dict[etree._Element, EncryptedPart] = {}  # element keys keep lxml proxies (and identity) alive
    decrypted_from: dict[etree._Element, EncryptedPart] = {}  # plaintext Assertion -> the wrapper it came out of
    # assertions first: an EncryptedID / EncryptedAttribute inside one is only reachable once it is decrypted
    for wrapper in root.findall("saml:EncryptedAssertion", NS)[:MAX_ENCRYPTED_PARTS]:
        part, plain = _decrypt_wrapper(wrapper, key, message.source)
        if plain is None:
            failed[wrapper] = part
        else:
            decrypted_from[plain] = part
    for wrapper in list(root.iter(*INNER_WRAPPERS))[:MAX_ENCRYPTED_PARTS]:
        part, plain = _decrypt_wrapper(wrapper, key, message.source)
        if plain is None:
            failed[wrapper] = part

    assertions = []
    for element in root.findall("saml:Assertion", NS):
        parsed = parse_assertion(element, message.source)
        inner_failures = tuple(failed.get(w, encrypted_part(w)) for w in element.iter(*INNER_WRAPPERS))
        assertions.append(replace(parsed, encrypted_parts=inner_failures,
                                  decrypted_from=decrypted_from.get(element)))
    still_encrypted = tuple(failed.get(w, encrypted_part(w)) for w in root.findall("saml:EncryptedAssertion", NS))
    return replace(message, root=root, assertions=tuple(assertions), encrypted_parts=still_encrypted)


def _decrypt_wrapper(wrapper: etree._Element, key: xmlsec.Key,
                     source: str) -> tuple[EncryptedPart, etree._Element | None]:
    """Decrypt one wrapper in place: on success the wrapper is replaced by its plaintext element."""
    part = encrypted_part(wrapper)
    data = wrapper.find("xenc:EncryptedData", NS)
    if data is None:
        return replace(part, error=f"{part.element} has no xenc:EncryptedData"), None
    _move_key_into_key_info(wrapper, data)
    data.attrib.pop("Type", None)  # without Type xmlsec returns the plaintext bytes instead of parsing them itself
    manager = xmlsec.KeysManager()
    try:
        manager.add_key(key)
        plaintext = xmlsec.EncryptionContext(manager).decrypt(data)
    except xmlsec.Error as exc:
        return replace(part, error=f"decryption failed: wrong SP key or corrupt data (xmlsec: {error_text(exc)})"), None
    if not isinstance(plaintext, bytes):
        return replace(part, error="decryption did not yield XML bytes"), None
    try:
        element = _parse_in_context(plaintext, wrapper, source)
    except InputError as exc:
        return replace(part, error=f"decrypted content is not XML: {error_text(exc)}"), None
    expected = PLAINTEXT_OF[part.element]
    if local_name(element) != expected:
        return replace(part, error=f"decrypted content is <{local_name(element)[:80]}>, expected <{expected}>"), None
    wrapper.getparent().replace(wrapper, element)
    return replace(part, decrypted=True), element


def _move_key_into_key_info(wrapper: etree._Element, data: etree._Element) -> None:
    """SAML core §2.2.4 lets the EncryptedKey sit beside the EncryptedData (found via ds:RetrievalMethod);
    xmlsec only looks inside ds:KeyInfo, so the key is moved there (as python3-saml does)."""
    if data.find("ds:KeyInfo/xenc:EncryptedKey", NS) is not None:
        return
    sibling_key = wrapper.find("xenc:EncryptedKey", NS)
    if sibling_key is None:
        return
    key_info = data.find("ds:KeyInfo", NS)
    if key_info is None:
        key_info = etree.Element(f"{{{NS['ds']}}}KeyInfo")
        method = data.find("xenc:EncryptionMethod", NS)
        (method.addnext if method is not None else lambda el: data.insert(0, el))(key_info)
    for retrieval in key_info.findall("ds:RetrievalMethod", NS):
        key_info.remove(retrieval)
    key_info.append(sibling_key)


def _parse_in_context(plaintext: bytes, wrapper: etree._Element, source: str) -> etree._Element:
    """Parse decrypted bytes with the namespace declarations in scope at the wrapper.

    The encrypting IdP serialised the element out of its document, so its prefixes (``saml:``) may be declared
    only on an ancestor; a holder element re-declares them.
    """
    declarations = "".join(f" xmlns:{prefix}={quote_attribute(uri)}" if prefix else f" xmlns={quote_attribute(uri)}"
                           for prefix, uri in wrapper.nsmap.items())
    holder = parse_xml(f"<holder{declarations}>".encode() + plaintext + b"</holder>", source)
    children = [child for child in holder if isinstance(child.tag, str)]
    if len(children) != 1:
        raise InputError(f"expected one element, found {len(children)}")
    return children[0]


def _mark_inner(assertion: Assertion, error: str) -> Assertion:
    return replace(assertion, encrypted_parts=tuple(replace(p, error=error) for p in assertion.encrypted_parts))
