"""The wrapping defence: which XML shapes a signed SAML message may take, judged on structure alone.

These rules are independent of both signature verifiers (python3-saml validation codes 6-13, 42; node-saml
xml.ts): a signature that verifies inside a document that breaks one of them is ``wrapping``, and a signature
these rules already condemn is not worth verifying.
"""
from __future__ import annotations

from collections import Counter

from lxml import etree

from ssodiag.diag.model import MessageKind
from ssodiag.diag.text import quoted
from ssodiag.diag.xmlparse import NS, ChildPath, local_name

DS_SIGNATURE = f"{{{NS['ds']}}}Signature"
SAML_ASSERTION = f"{{{NS['saml']}}}Assertion"
SAML_ENCRYPTED_ASSERTION = f"{{{NS['saml']}}}EncryptedAssertion"
MESSAGE_ROOTS = frozenset(f"{{{NS['samlp']}}}{kind.value}" for kind in MessageKind)
ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
MAX_TRANSFORMS = 2  # node-saml: "Invalid signature, too many transforms"
MAX_SIGNATURES = 8
ID_ATTRIBUTES = ("ID", "Id")  # SAML's ID, and the Id of other XML-DSig profiles: a duplicate of either misleads
QUOTED_ID = 120  # characters of an ID, URI or algorithm quoted in a rule
REFERENCES = ChildPath("ds:SignedInfo/ds:Reference")  # of a ds:Signature
_TRANSFORMS = ChildPath("ds:Transforms/ds:Transform")  # of a ds:Reference


def structure_rules(root: etree._Element, signatures: list[etree._Element],
                    c14n_uris: frozenset[str]) -> list[str]:
    """Every wrapping-defence rule the document breaks, each as ``rule-name: what was seen``."""
    rules: list[str] = []
    if root.getparent() is not None or any(isinstance(s.tag, str) for s in root.itersiblings()):
        rules.append("single-root: the message is not the only root element of its document (node-saml #195)")
    if len(signatures) > MAX_SIGNATURES:
        rules.append(f"signature-count: {len(signatures)} ds:Signature elements, at most {MAX_SIGNATURES} are read")
    assertions = sum(1 for _ in root.iter(SAML_ASSERTION, SAML_ENCRYPTED_ASSERTION))
    if assertions > 1:
        # python3-saml WRONG_NUMBER_OF_ASSERTIONS: extra copies (in Extensions, Advice, ds:Object) are how XSW works
        rules.append(f"single-assertion: {assertions} assertions in the document (counted everywhere, "
                     "including Extensions, Advice and ds:Object); a Response must carry exactly one")
    duplicates = sorted(v for v, n in Counter(_all_ids(root)).items() if n > 1)
    if duplicates:
        rules.append(f"unique-ids: ID {quoted(duplicates[0], QUOTED_ID)} appears more than once "
                     "(a Reference must resolve to exactly one element)")
    per_parent = Counter(s.getparent() for s in signatures)
    allowed_transforms = frozenset({ENVELOPED}) | c14n_uris
    for signature in signatures[:MAX_SIGNATURES]:
        rules += _signature_rules(signature, root, per_parent[signature.getparent()], allowed_transforms)
    return list(dict.fromkeys(rules))  # same rule from several signatures: say it once


def in_signable_place(signature: etree._Element, root: etree._Element) -> bool:
    """The message root, or an Assertion directly inside the message root (python3-saml WRONG_SIGNED_ELEMENT)."""
    parent = signature.getparent()
    return (parent is root and parent.tag in MESSAGE_ROOTS) or (
        parent.tag == SAML_ASSERTION and parent.getparent() is root and root.tag in MESSAGE_ROOTS)


def references_whole_document(signature: etree._Element) -> bool:
    """Reference URI="": the signature covers the whole document, less itself (XML-DSig §4.4.3.2)."""
    references = REFERENCES.all(signature)
    return len(references) == 1 and references[0].get("URI") == ""


def _signature_rules(signature: etree._Element, root: etree._Element, siblings: int,
                     allowed_transforms: frozenset[str]) -> list[str]:
    rules: list[str] = []
    parent = signature.getparent()
    where = f"<{local_name(parent)}>"
    if not in_signable_place(signature, root):
        rules.append(f"signature-parent: a ds:Signature sits in {where}; only the message root or an Assertion "
                     "directly inside the Response may be signed (python3-saml WRONG_SIGNED_ELEMENT)")
    if siblings > 1:
        rules.append(f"one-signature-per-element: {where} has {siblings} ds:Signature children "
                     "(python3-saml WRONG_NUMBER_OF_SIGNATURES)")
    references = REFERENCES.all(signature)
    if len(references) != 1:
        rules.append(f"one-reference: the signature in {where} has {len(references)} References, "
                     "a SAML signature has exactly one (node-saml)")
    for reference in references[:2]:
        uri = reference.get("URI")
        parent_id = parent.get("ID")
        if uri is not None and ('"' in uri or "'" in uri):
            rules.append(f"reference-uri-quote: Reference URI {quoted(uri, QUOTED_ID)} contains a quote character (node-saml)")
        # URI="" is the whole document: sound wherever the document is the message (python3-saml accepts it)
        whole_document = uri == "" and root.getparent() is None
        if not whole_document and (parent_id is None or uri != f"#{parent_id}"):
            rules.append(f"reference-is-parent: Reference URI {quoted(uri, QUOTED_ID)} does not point at its parent {where} "
                         f"(ID {quoted(parent_id, QUOTED_ID)}) (SAML core §5.4.2; python3-saml INVALID_SIGNED_ELEMENT)")
        transforms = [t.get("Algorithm") for t in _TRANSFORMS.all(reference)]
        odd = [t for t in transforms if t not in allowed_transforms]
        if odd or len(transforms) > MAX_TRANSFORMS:
            rules.append(f"transforms: {len(transforms)} transforms {', '.join(quoted(t, QUOTED_ID) for t in (odd or transforms))}"
                         "; only enveloped-signature and canonicalisation, at most 2 (SAML core §5.4.4)")
    return rules


# every element's ID and Id value, the root's included, read in libxml2 rather than element by element in Python
_ID_VALUES = etree.XPath(" | ".join(f"descendant-or-self::*/@{a}" for a in ID_ATTRIBUTES), smart_strings=False)


def _all_ids(root: etree._Element) -> list[str]:
    return [v for v in _ID_VALUES(root) if v]
