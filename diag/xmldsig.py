"""XML-DSig cryptography for one ds:Signature, done twice: by signxml and by libxmlsec1 (python-xmlsec).

Two independent implementations judge every signature; :mod:`ssodiag.diag.signature` only calls a signature
verified when both accept it, and never calls it tampered when one of them accepts it.

- :func:`find_signing_key` picks, among the candidate certificates, the one whose key produced the SignatureValue
  over the canonical SignedInfo. It costs one public-key operation per candidate, so the two full verifications
  below run once per signature, with that key only.
- :func:`verify_with_signxml` verifies the signature in its place in the document as parsed from the bytes
  received (``location`` pins which ds:Signature), never on a re-serialised subtree. signxml itself re-serialises
  SignedInfo and the referenced element on their own before canonicalising them, which drops what inclusive C14N
  takes from the ancestors: the namespace declarations in scope and the inherited ``xml:*`` attributes (C14N 1.0
  §2.4, document subsets), and the in-scope prefixes an exclusive C14N ``InclusiveNamespaces PrefixList`` names
  (Okta's ``xs``).
  :class:`_InContextVerifier` keeps that context when signxml serialises.
- :func:`verify_with_libxmlsec` runs libxmlsec1 on the same parsed tree, which canonicalises document subsets
  natively. It is imported here only, where it is used.
"""
from __future__ import annotations

import base64
import binascii
import copy
import warnings
from functools import lru_cache
from datetime import datetime, timedelta

from cryptography.utils import CryptographyDeprecationWarning
from cryptography.exceptions import InvalidSignature as CryptoInvalidSignature, UnsupportedAlgorithm
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import dsa, ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from lxml import etree
from msgspec import Struct
from signxml import SignatureConfiguration, XMLVerifier
from signxml.algorithms import CanonicalizationMethod, DigestAlgorithm, SignatureMethod
from signxml.exceptions import InvalidDigest, InvalidSignature, SignXMLException

from ssodiag.diag.certs import x509_certificate
from ssodiag.diag.model import Certificate
from ssodiag.diag.text import error_text
from ssodiag.diag.xmlparse import NS, ChildPath, quote_attribute

DS_SIGNATURE = f"{{{NS['ds']}}}Signature"
XML_NAMESPACE = "http://www.w3.org/XML/1998/namespace"
EXC_C14N_PREFIX = "http://www.w3.org/2001/10/xml-exc-c14n#"
C14N_11_PREFIX = "http://www.w3.org/2006/12/xml-c14n11"
# within a ds:Signature
SIGNATURE_METHOD = ChildPath("ds:SignedInfo/ds:SignatureMethod")
C14N_METHOD = ChildPath("ds:SignedInfo/ds:CanonicalizationMethod")
_REFERENCE_TRANSFORMS = ChildPath("ds:SignedInfo/ds:Reference/ds:Transforms/ds:Transform")

# HMAC needs a shared secret no IdP publishes: for SAML trust it is as good as unsupported.
SIGNATURE_METHODS = frozenset(m for m in SignatureMethod if not m.name.startswith("HMAC"))
SIGNATURE_URIS = frozenset(m.value for m in SIGNATURE_METHODS)
DIGEST_ALGORITHMS = frozenset(DigestAlgorithm)
DIGEST_URIS = frozenset(d.value for d in DIGEST_ALGORITHMS)
C14N_URIS = frozenset(c.value for c in CanonicalizationMethod)

# The hash behind each public-key signature method, for the SignatureValue check and the HTTP-Redirect signature.
SIGNATURE_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    m.value: {"SHA1": hashes.SHA1, "SHA224": hashes.SHA224, "SHA256": hashes.SHA256, "SHA384": hashes.SHA384,
              "SHA512": hashes.SHA512}[m.name.rsplit("_", 1)[-1]]
    for m in SIGNATURE_METHODS if m.name.rsplit("_", 1)[-1] in ("SHA1", "SHA224", "SHA256", "SHA384", "SHA512")
}


class VerifierResult(Struct, frozen=True):
    """One implementation's judgement of one signature with one key."""

    verifier: str  # "signxml" or "libxmlsec1"
    accepted: bool
    digest_mismatch: bool = False  # the key signed SignedInfo, but the referenced content changed afterwards
    reason: str = ""
    signed_data: bytes | None = None  # signxml: the canonical bytes the digest covers
    signed_xml: etree._Element | None = None  # signxml: those bytes parsed (what a relying party may read)


# --------------------------------------------------------------------------- canonical form in context


def serialise_in_context(element: etree._Element, *, inherit_xml_attributes: bool, c14n_11: bool = False) -> bytes:
    """``element`` serialised on its own, but carrying on its start tag every namespace declaration in scope and,
    for inclusive C14N, the ``xml:*`` attributes it inherits: re-parsed, it canonicalises as it does in place.

    C14N 1.1 inherits ``xml:lang`` and ``xml:space`` only (``xml:id`` is not inherited, ``xml:base`` is fixed up);
    C14N 1.0 inherits every ``xml:*`` attribute.
    """
    text = etree.tostring(element, with_tail=False)
    if element.getparent() is None:
        return text
    # what lxml already declared on the start tag: it escapes ">" and '"' inside attribute values, so the first ">"
    # ends the tag and ' xmlns:p="' in it can only be a declaration
    start = text[:text.index(b">")]
    extra = [(f"xmlns:{p}" if p else "xmlns", uri) for p, uri in element.nsmap.items()
             if (f' xmlns:{p}="' if p else ' xmlns="').encode() not in start]
    if inherit_xml_attributes:
        inherited: dict[str, str] = {}
        for ancestor in element.iterancestors():
            for name, value in ancestor.attrib.items():
                if name.startswith(f"{{{XML_NAMESPACE}}}") and name not in inherited and name not in element.attrib:
                    inherited[name] = value
        for name, value in inherited.items():
            local = name.split("}", 1)[1]
            if not c14n_11 or local in ("lang", "space"):
                extra.append((f"xml:{local}", value))
    if not extra:
        return text
    qname = f"{element.prefix}:{etree.QName(element).localname}" if element.prefix else etree.QName(element).localname
    head = f"<{qname}".encode()
    declarations = "".join(f" {name}={quote_attribute(value)}" for name, value in extra).encode()
    return head + declarations + text[len(head):]


def _is_inclusive(uri: str | None) -> bool:
    return uri is not None and uri in C14N_URIS and not uri.startswith(EXC_C14N_PREFIX)


def _reference_c14n_transform(signature: etree._Element) -> etree._Element | None:
    c14n = [t for t in _REFERENCE_TRANSFORMS.all(signature) if t.get("Algorithm") in C14N_URIS]
    return c14n[-1] if c14n else None


def _c14n_of(transform: etree._Element | None) -> str:
    """The canonicalisation a Reference's last C14N ``transform`` applies: with none, XML-DSig §4.4.3.2
    canonicalises the node-set with inclusive C14N 1.0."""
    return transform.get("Algorithm") if transform is not None else CanonicalizationMethod.CANONICAL_XML_1_0.value


def _prefix_list(method: etree._Element | None) -> list[str] | None:
    if method is None:
        return None
    inclusive = next(method.iterchildren(f"{{{EXC_C14N_PREFIX}}}InclusiveNamespaces"), None)
    if inclusive is None or not inclusive.get("PrefixList"):
        return None
    return [p if p != "#default" else None for p in inclusive.get("PrefixList").split()]


def canonical_signed_info(signature: etree._Element) -> bytes:
    """The octets the SignatureValue signs: SignedInfo canonicalised in its place (XML-DSig §3.2.2)."""
    signed_info = signature.find("ds:SignedInfo", NS)
    method = signed_info.find("ds:CanonicalizationMethod", NS)
    uri = method.get("Algorithm") if method is not None else None
    inclusive = _is_inclusive(uri)
    standalone = etree.fromstring(serialise_in_context(signed_info, inherit_xml_attributes=inclusive,
                                                       c14n_11=bool(uri and uri.startswith(C14N_11_PREFIX))))
    return etree.tostring(standalone, method="c14n", exclusive=not inclusive,
                          with_comments=bool(uri and uri.endswith("#WithComments")),
                          inclusive_ns_prefixes=None if inclusive else _prefix_list(method))


def canonical_reference_data(element: etree._Element, signature: etree._Element) -> bytes:
    """The octets a Reference to ``element`` digests when ``signature``, a child of it, is enveloped: the element
    canonicalised in its place with the signature node removed and the text around it kept (XML-DSig §6.6.4)."""
    transform = _reference_c14n_transform(signature)
    uri = _c14n_of(transform)
    inclusive = _is_inclusive(uri)
    prefixes = None if inclusive else _prefix_list(transform)
    if inclusive or prefixes:
        # inclusive C14N outputs every namespace in scope and the inherited xml:* attributes, and a PrefixList names
        # prefixes no name need use: the element re-parsed from its in-context form keeps them
        standalone = etree.fromstring(serialise_in_context(element, inherit_xml_attributes=inclusive,
                                                           c14n_11=uri.startswith(C14N_11_PREFIX)))
    else:
        # exclusive C14N outputs only the namespaces the names use, which a copy declares (in a third of the time)
        standalone = copy.deepcopy(element)
    remove_keeping_text(standalone[list(element).index(signature)])
    return etree.tostring(standalone, method="c14n", exclusive=not inclusive, with_comments=uri.endswith("#WithComments"),
                          inclusive_ns_prefixes=prefixes)


def remove_keeping_text(node: etree._Element) -> None:
    """lxml moves an element's tail with it; the enveloped-signature transform removes the element node only."""
    parent, previous, tail = node.getparent(), node.getprevious(), node.tail or ""
    if previous is not None:
        previous.tail = (previous.tail or "") + tail
    else:
        parent.text = (parent.text or "") + tail
    parent.remove(node)


# --------------------------------------------------------------------------- which key signed


def signature_value_verifies(cert: Certificate, raw_signature: bytes, data: bytes, method_uri: str) -> bool:
    """Whether ``cert``'s public key made ``raw_signature`` over ``data`` with the XML-DSig/redirect ``method_uri``.

    ECDSA and DSA signature values are ``r || s`` (RFC 4050 §3.3; XML-DSig §6.4.1), DER-encoded for cryptography.
    """
    hash_cls = SIGNATURE_HASHES.get(method_uri)
    if hash_cls is None:
        return False
    try:
        key = x509_certificate(cert).public_key()
        if isinstance(key, rsa.RSAPublicKey) and "rsa" in method_uri:
            key.verify(raw_signature, data, padding.PKCS1v15(), hash_cls())
        elif isinstance(key, (ec.EllipticCurvePublicKey, dsa.DSAPublicKey)) and ("ecdsa" in method_uri
                                                                                  or "dsa-" in method_uri):
            half = len(raw_signature) // 2
            der = encode_dss_signature(int.from_bytes(raw_signature[:half], "big"),
                                       int.from_bytes(raw_signature[half:], "big"))
            if isinstance(key, ec.EllipticCurvePublicKey):
                key.verify(der, data, ec.ECDSA(hash_cls()))
            else:
                key.verify(der, data, hash_cls())
        else:
            return False
    except (CryptoInvalidSignature, ValueError, TypeError):
        return False
    return True


def find_signing_key(signature: etree._Element, candidates: list[Certificate]) -> Certificate | None:
    """The first candidate whose key made the SignatureValue over the canonical SignedInfo, else None."""
    method = SIGNATURE_METHOD.first(signature)
    value = signature.find("ds:SignatureValue", NS)
    if method is None or value is None:
        return None
    try:
        raw = base64.b64decode("".join((value.text or "").split()), validate=True)
        signed_info = canonical_signed_info(signature)
    except (binascii.Error, ValueError, etree.LxmlError):
        return None
    return next((c for c in candidates if signature_value_verifies(c, raw, signed_info, method.get("Algorithm"))),
                None)


# --------------------------------------------------------------------------- signxml


class _InContextVerifier(XMLVerifier):
    """signxml, serialising SignedInfo's Signature and the referenced element with their context kept (see the
    module docstring). Everything else — reference resolution, transforms, digests, key checks — is signxml's."""

    def __init__(self, signature: etree._Element) -> None:
        super().__init__()
        method = C14N_METHOD.first(signature)
        self._signed_info_c14n = method.get("Algorithm") if method is not None else None
        self._reference_c14n = _c14n_of(_reference_c14n_transform(signature))

    def get_root(self, data):
        """The document as parsed from the bytes received (:func:`ssodiag.diag.xmlparse.parse_xml`: hardened, no
        DOCTYPE). signxml would otherwise serialise it and parse it again; it only reads this tree, and copies the
        document before applying the transforms to it."""
        return data

    def _tostring(self, xml_node, **kwargs):
        if isinstance(xml_node, etree._Element) and xml_node.getparent() is not None and not kwargs:
            uri = self._signed_info_c14n if xml_node.tag == DS_SIGNATURE else self._reference_c14n
            return serialise_in_context(xml_node, inherit_xml_attributes=_is_inclusive(uri),
                                        c14n_11=bool(uri and uri.startswith(C14N_11_PREFIX)))
        return super()._tostring(xml_node, **kwargs)

    def _c14n(self, nodes, algorithm: CanonicalizationMethod, inclusive_ns_prefixes=None):
        """SignedInfo is canonicalised as a child of the re-parsed Signature, and lxml's canonical form of a child
        element does not inherit its ancestors' ``xml:*`` attributes: serialise it with them first."""
        if isinstance(nodes, etree._Element) and nodes.getparent() is not None and _is_inclusive(algorithm.value):
            nodes = etree.fromstring(serialise_in_context(nodes, inherit_xml_attributes=True,
                                                          c14n_11=algorithm.value.startswith(C14N_11_PREFIX)))
        return super()._c14n(nodes, algorithm, inclusive_ns_prefixes)

    def validate_schema(self, signature):
        """The XML-DSig schema allows no ``xml:*`` attribute on ds:Signature: validate it without the inherited ones
        :meth:`_tostring` put there for canonicalisation."""
        inherited = [name for name in signature.attrib if name.startswith(f"{{{XML_NAMESPACE}}}")]
        if inherited:
            signature = etree.fromstring(etree.tostring(signature))
            for name in inherited:
                del signature.attrib[name]
        return super().validate_schema(signature)


def signature_location(signature: etree._Element, root: etree._Element) -> str | None:
    """signxml's ``location`` for the first ds:Signature of the root or of the root's first child of that name."""
    parent = signature.getparent()
    if parent is root:
        return "./"
    if parent.getparent() is root and next(root.iterchildren(parent.tag)) is parent:
        return f"./{parent.tag}/"
    return None


@lru_cache(maxsize=64)
def _signxml_config(location: str, cert_not_before: datetime) -> SignatureConfiguration:
    """What signxml must find, the same for every message an IdP signs (signxml copies it, never changes it)."""
    return SignatureConfiguration(
        location=location, expect_references=1, signature_methods=SIGNATURE_METHODS,
        digest_algorithms=DIGEST_ALGORITHMS, ignore_ambiguous_key_info=True,
        # certificate validity is judged by the checks at the capture time, not by signxml at "now"
        verification_time=cert_not_before + timedelta(seconds=1),
    )


def verify_with_signxml(signature: etree._Element, root: etree._Element, cert: Certificate) -> VerifierResult:
    """signxml's verdict on ``signature`` (in the document ``root``) with ``cert``."""
    location = signature_location(signature, root)
    if location is None:
        return VerifierResult("signxml", False, reason="the signature is not where it can be addressed")
    x509_cert = x509_certificate(cert)
    config = _signxml_config(location, x509_cert.not_valid_before_utc)
    try:
        with warnings.catch_warnings():  # an odd KeyInfo certificate is a finding, not a line on stderr
            warnings.simplefilter("ignore", CryptographyDeprecationWarning)
            # "#id" resolves against the ID attribute, the one SAML's schema declares (xs:ID) and the one libxmlsec1
            # is given below; signxml's default tries Id, then ID, id and xml:id, one document search each
            verified = _InContextVerifier(signature).verify(root, x509_cert=x509_cert, expect_config=config,
                                                            id_attribute="ID")
    except InvalidDigest:
        return VerifierResult("signxml", False, digest_mismatch=True, reason="the digest does not match")
    except InvalidSignature as exc:
        return VerifierResult("signxml", False, reason=error_text(exc))
    except (SignXMLException, etree.LxmlError, ValueError, TypeError) as exc:
        return VerifierResult("signxml", False, reason=f"cannot process it: {error_text(exc)}")
    return VerifierResult("signxml", True, signed_data=verified.signed_data, signed_xml=verified.signed_xml)


# --------------------------------------------------------------------------- libxmlsec1


@lru_cache(maxsize=32)
def _libxmlsec_key(cert: x509.Certificate):
    """libxmlsec1's key for a certificate, loaded once however many messages it signed: its public key alone.

    A SignatureContext takes its own copy of the key, and a key loaded from the certificate carries the certificate
    too, which made each copy (and each verification) cost more than the verification of a small Response. The
    certificate adds nothing here: libxmlsec1 has no keys manager, so it judges no certificate, only the key.
    A key cryptography cannot read (an explicit-parameters curve) is still loaded from the certificate, as before.
    """
    import xmlsec

    try:
        public_key = cert.public_key()
    except (ValueError, UnsupportedAlgorithm):
        return xmlsec.Key.from_memory(cert.public_bytes(Encoding.DER), xmlsec.KeyFormat.CERT_DER, None)
    return xmlsec.Key.from_memory(public_key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo),
                                  xmlsec.KeyFormat.DER, None)


def verify_with_libxmlsec(signature: etree._Element, cert: Certificate) -> VerifierResult:
    """libxmlsec1's verdict on ``signature``, in place in its parsed document, with ``cert``'s key."""
    import xmlsec  # imported where used: it is a native library

    parent = signature.getparent()
    context = xmlsec.SignatureContext()
    try:
        context.key = _libxmlsec_key(x509_certificate(cert))
        if parent.get("ID"):
            context.register_id(parent, "ID")
        context.verify(signature)
    except xmlsec.VerificationError:
        return VerifierResult("libxmlsec1", False, reason="the digest or the signature value does not match")
    except xmlsec.Error as exc:
        return VerifierResult("libxmlsec1", False, reason=f"cannot process it: {error_text(exc)}")
    return VerifierResult("libxmlsec1", True)
