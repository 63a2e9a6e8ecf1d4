"""The one hardened XML parser every SAML, metadata and HAR-embedded document goes through.

Why each setting (the XXE / entity-expansion attacks defusedxml documents; python3-saml parses the same way):
- ``resolve_entities=False, no_network=True, load_dtd=False``: no XXE, no external DTD, no network.
- libxml2 still keeps a DOCTYPE (and unexpanded ``&x;``) in the tree, so any DOCTYPE is rejected outright,
  as signxml and python3-saml do.
- ``huge_tree=False`` keeps libxml2's own depth/size limits; we add a byte cap before parsing.
- comments and processing instructions are kept: the signature is verified on the original bytes, and
  :func:`text_of` reads text across comments so that ``alice@corp.com<!---->.evil.com`` is one value
  (CVE-2017-11427 class).
"""
from __future__ import annotations

from lxml import etree

from ssodiag.diag.errors import InputError
from ssodiag.diag.limits import MAX_XML_BYTES

NS = {
    "samlp": "urn:oasis:names:tc:SAML:2.0:protocol",
    "saml": "urn:oasis:names:tc:SAML:2.0:assertion",
    "md": "urn:oasis:names:tc:SAML:2.0:metadata",
    "ds": "http://www.w3.org/2000/09/xmldsig#",
    "xenc": "http://www.w3.org/2001/04/xmlenc#",
}


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_blank_text=False,
        remove_comments=False,
        collect_ids=False,
    )


def parse_xml(data: bytes, source: str | None = None) -> etree._Element:
    """Parse untrusted XML bytes into a root element, or raise :class:`InputError` with a one-line reason."""
    if len(data) > MAX_XML_BYTES:
        raise InputError(f"XML document is {len(data)} bytes, over the {MAX_XML_BYTES}-byte limit", source)
    head = data[:4096].lstrip()
    if b"<!DOCTYPE" in data or b"<!ENTITY" in head:
        raise InputError("XML with a DOCTYPE or entity declaration is refused (XXE / entity-expansion risk)", source)
    try:
        root = etree.fromstring(data, parser=_parser())
    except etree.XMLSyntaxError as exc:
        msg = str(exc).splitlines()[0] if str(exc) else "malformed XML"
        raise InputError(f"malformed XML: {msg}", source) from None
    if root is None:
        raise InputError("empty XML document", source)
    # fromstring silently keeps a DOCTYPE that was encoded (e.g. UTF-16); check the parsed tree too.
    if root.getroottree().docinfo.doctype:
        raise InputError("XML with a DOCTYPE is refused (XXE / entity-expansion risk)", source)
    return root


# What an attribute value written back into XML must escape: markup, the quote, and the whitespace a parser would
# otherwise normalise to a space (XML 1.0 §3.3.3). Written here rather than taken from xml.sax.saxutils.quoteattr,
# whose module imports urllib.request, and with it http.client, ssl and email: 8 ms of every start for one line.
_ATTRIBUTE_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", '"': "&quot;", "\n": "&#10;", "\r": "&#13;",
                                    "\t": "&#9;"})


def quote_attribute(value: str) -> str:
    """``value`` as a double-quoted XML attribute value that parses back to exactly ``value``."""
    return f'"{value.translate(_ATTRIBUTE_ESCAPES)}"'


def text_of(element: etree._Element | None) -> str | None:
    """The element's full text content, joined across comments, CDATA and processing instructions.

    ``element.text`` stops at the first comment; that truncation is the comment-injection attack.
    Child *elements* are not expected inside SAML text values, but their text is included too, which is
    what canonicalisation (and so the signature) sees.
    """
    if element is None:
        return None
    # itertext skips comments and PIs but keeps their tails, which is exactly what we need
    return "".join(element.itertext(with_tail=True)).strip()


class ChildPath:
    """A path of child steps (``ds:SignedInfo/ds:Reference``) compiled once into an XPath with :data:`NS`.

    ``element.find(path, NS)`` walks the path step by step in Python at every call, and reading a Response and
    its signature looks up some forty such paths; a compiled XPath, evaluated in libxml2, finds the same elements
    (child elements only, in document order) in half to a third of the time.
    """

    def __init__(self, path: str) -> None:
        self._xpath = etree.XPath(path, namespaces=NS)

    def all(self, element: etree._Element) -> list[etree._Element]:
        return self._xpath(element)

    def first(self, element: etree._Element) -> etree._Element | None:
        found = self._xpath(element)
        return found[0] if found else None


def local_name(element: etree._Element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""
