"""An interop corpus: SAML Responses laid out the way production IdPs write them, signed by libxmlsec1.

Nothing here uses signxml, the library under test: signing is done by python-xmlsec (libxmlsec1 in its wheel) or by
Debian's ``xmlsec1`` command, from templates this module writes. Keys are fresh per test session (tests.idp), so
nothing expires.

A :class:`Shape` says how the document is laid out (compact, pretty-printed, CRLF; namespaces on each element, on
the root only, or as default namespaces; ``ds:`` prefix or ds default namespace; a BOM and XML declaration;
comments outside the signed data), what is signed and how (exclusive or inclusive C14N, Okta's
``InclusiveNamespaces PrefixList="xs"``, Reference URI="" on the root, RSA-SHA256/SHA-512 or ECDSA P-256).
"""
from __future__ import annotations

import copy
import datetime as dt
import shutil
import subprocess
import tempfile
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import xmlsec
from lxml import etree
from msgspec import Struct
from msgspec.structs import asdict

from tests.idp import ACS_URL, BEARER, IDP_ENTITY_ID, NAMEID_EMAIL, PASSWORD_PROTECTED, SP_ENTITY_ID, TestIdP, \
    new_id, saml_time, utc_now

SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
DS = "http://www.w3.org/2000/09/xmldsig#"
XS = "http://www.w3.org/2001/XMLSchema"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
PREFIXES = {SAMLP: "samlp", SAML: "saml"}
NAME_ID = "nameid-alice@example.test"
FORGED_NAME_ID = "nameid-mallory@example.test"
XMLSEC1 = shutil.which("xmlsec1")
XMLSEC1_TIMEOUT_S = 20

SIGNATURE_TRANSFORMS = {"rsa-sha256": xmlsec.Transform.RSA_SHA256, "rsa-sha512": xmlsec.Transform.RSA_SHA512,
                        "ecdsa-sha256": xmlsec.Transform.ECDSA_SHA256}
DIGEST_TRANSFORMS = {"rsa-sha256": xmlsec.Transform.SHA256, "rsa-sha512": xmlsec.Transform.SHA512,
                     "ecdsa-sha256": xmlsec.Transform.SHA256}
C14N_TRANSFORMS = {"exclusive": xmlsec.Transform.EXCL_C14N, "inclusive": xmlsec.Transform.C14N}


class Shape(Struct, frozen=True):
    layout: str = "compact"  # compact | pretty | crlf
    namespaces: str = "root"  # root (declared once on the Response) | each (on every element) | default
    ds_prefix: str | None = "ds"  # None: ds is the Signature's default namespace
    c14n: str = "exclusive"  # exclusive | inclusive
    prefix_list: bool = False  # Okta: exclusive C14N with InclusiveNamespaces PrefixList="xs"
    signed: str = "assertion"  # assertion | response | both
    algorithm: str = "rsa-sha256"  # rsa-sha256 | rsa-sha512 | ecdsa-sha256
    comments: bool = False  # comments outside the signed data
    bom_and_declaration: bool = False
    whole_document_reference: bool = False  # Reference URI="" on the Response's signature
    xml_lang: bool = False  # xml:lang on the Response, which inclusive C14N of the Assertion inherits
    signer: str = "python-xmlsec"  # python-xmlsec | xmlsec1 (the Debian command)

    @property
    def name(self) -> str:
        default = Shape()
        return ",".join(f"{k}={v}" for k, v in asdict(self).items() if getattr(default, k) != v) or "default"


# --------------------------------------------------------------------------- the document, in every layout


def _element(ns: str, local: str, attrs: dict[str, str], children: list | str, style: str,
             declared: frozenset[str], root_extra: str = "") -> str:
    """One element serialised in the namespace ``style``; ``declared`` is what the ancestors already declared."""
    if style == "default":
        tag, decl = local, ("" if ns in declared else f' xmlns="{ns}"')
        declared = frozenset({ns})  # a default namespace: the nearest one wins
    else:
        tag = f"{PREFIXES[ns]}:{local}"
        decl = "" if (style == "root" and ns in declared) else f' xmlns:{PREFIXES[ns]}="{ns}"'
        declared = declared | {ns}
    attributes = "".join(f" {k}={quoteattr(v)}" for k, v in attrs.items())
    if isinstance(children, str):
        return f"<{tag}{decl}{root_extra}{attributes}>{escape(children)}</{tag}>"
    return (f"<{tag}{decl}{root_extra}{attributes}>"
            + "".join(_element(*child, style=style, declared=declared) for child in children) + f"</{tag}>")


def _attribute_value(value: str, style: str) -> tuple:
    # xsi:type="xs:string" (Okta, Entra): the xs prefix is used only inside an attribute value, which is why
    # exclusive C14N needs InclusiveNamespaces PrefixList="xs" to keep its declaration in the signed data
    attrs = {"xsi:type": "xs:string"}
    if style == "each":
        attrs = {"xmlns:xs": XS, "xmlns:xsi": XSI, **attrs}
    return (SAML, "AttributeValue", attrs, value)


def response_xml(shape: Shape, issued: dt.datetime | None = None) -> bytes:
    """The unsigned Response for ``shape``: a protocol-valid login for tests.idp's SP and ACS."""
    now = issued or utc_now()
    later = now + dt.timedelta(minutes=5)
    style = shape.namespaces
    assertion = (SAML, "Assertion", {"ID": new_id(), "Version": "2.0", "IssueInstant": saml_time(now)}, [
        (SAML, "Issuer", {}, IDP_ENTITY_ID),
        (SAML, "Subject", {}, [
            (SAML, "NameID", {"Format": NAMEID_EMAIL}, NAME_ID),
            (SAML, "SubjectConfirmation", {"Method": BEARER}, [
                (SAML, "SubjectConfirmationData", {"NotOnOrAfter": saml_time(later), "Recipient": ACS_URL,
                                                   "InResponseTo": "_request-1"}, [])])]),
        (SAML, "Conditions", {"NotBefore": saml_time(now - dt.timedelta(minutes=5)), "NotOnOrAfter": saml_time(later)},
         [(SAML, "AudienceRestriction", {}, [(SAML, "Audience", {}, SP_ENTITY_ID)])]),
        (SAML, "AuthnStatement", {"AuthnInstant": saml_time(now), "SessionIndex": new_id()}, [
            (SAML, "AuthnContext", {}, [(SAML, "AuthnContextClassRef", {}, PASSWORD_PROTECTED)])]),
        (SAML, "AttributeStatement", {}, [
            (SAML, "Attribute", {"Name": "email"}, [_attribute_value("alice@example.test", style)]),
            (SAML, "Attribute", {"Name": "memberOf"}, [_attribute_value("engineering", style)])]),
    ])
    children = [(SAML, "Issuer", {}, IDP_ENTITY_ID),
                (SAMLP, "Status", {}, [(SAMLP, "StatusCode", {"Value": "urn:oasis:names:tc:SAML:2.0:status:Success"},
                                        [])]),
                assertion]
    root_extra = "" if style == "each" else f' xmlns:xs="{XS}" xmlns:xsi="{XSI}"'
    if style == "root":
        root_extra = f' xmlns:saml="{SAML}"' + root_extra
    if shape.xml_lang:
        root_extra += ' xml:lang="en"'
    attrs = {"ID": new_id(), "Version": "2.0", "IssueInstant": saml_time(now), "Destination": ACS_URL,
             "InResponseTo": "_request-1"}
    text = _element(SAMLP, "Response", attrs, children, style, frozenset({SAML} if style == "root" else ()),
                    root_extra)
    root = etree.fromstring(text.encode())
    if shape.layout in ("pretty", "crlf"):
        etree.indent(root, space="  ")
    if shape.comments and shape.signed == "assertion":
        root.find(f"{{{SAML}}}Assertion").addprevious(etree.Comment(" the assertion follows "))
    return etree.tostring(root)


# --------------------------------------------------------------------------- signing (libxmlsec1 only)


def signature_template(target: etree._Element, shape: Shape, uri: str) -> etree._Element:
    signature = xmlsec.template.create(target, C14N_TRANSFORMS["exclusive" if shape.c14n == "exclusive" else
                                                                "inclusive"],
                                       SIGNATURE_TRANSFORMS[shape.algorithm], ns=shape.ds_prefix)
    issuer = target.find(f"{{{SAML}}}Issuer")
    issuer.addnext(signature)  # SAML core §5.4.1 and the schema order: right after the Issuer
    signature.tail = issuer.tail
    reference = xmlsec.template.add_reference(signature, DIGEST_TRANSFORMS[shape.algorithm], uri=uri)
    xmlsec.template.add_transform(reference, xmlsec.Transform.ENVELOPED)
    c14n = xmlsec.template.add_transform(reference, C14N_TRANSFORMS[shape.c14n])
    if shape.prefix_list:
        xmlsec.template.transform_add_c14n_inclusive_namespaces(c14n, ["xs"])
    key_info = xmlsec.template.ensure_key_info(signature)
    xmlsec.template.add_x509_data(key_info)
    return signature


def sign_with_python_xmlsec(root: etree._Element, target: etree._Element, signature: etree._Element,
                             idp: TestIdP) -> None:
    context = xmlsec.SignatureContext()
    key = xmlsec.Key.from_memory(idp.key_pem, xmlsec.KeyFormat.PEM, None)
    key.load_cert_from_memory(idp.cert_pem.encode(), xmlsec.KeyFormat.CERT_PEM)
    context.key = key
    context.register_id(target, "ID")
    context.sign(signature)


def _sign_with_xmlsec1(document: bytes, idp: TestIdP) -> bytes:
    """Debian's xmlsec1 command signs the first template it finds in ``document`` (the Response's comes before
    the Assertion's in document order). ``--insecure``: the certificate is self-signed, as IdP certificates are."""
    with tempfile.TemporaryDirectory(prefix="ssodiag-xmlsec1-") as folder:
        key, cert, template = (Path(folder) / n for n in ("key.pem", "cert.pem", "template.xml"))
        key.write_bytes(idp.key_pem)
        cert.write_text(idp.cert_pem)
        template.write_bytes(document)
        done = subprocess.run([XMLSEC1, "--sign", "--insecure", "--privkey-pem", f"{key},{cert}",
                               "--id-attr:ID", f"{SAMLP}:Response", "--id-attr:ID", f"{SAML}:Assertion",
                               "--output", "-", str(template)], capture_output=True, timeout=XMLSEC1_TIMEOUT_S,
                              check=False)
        if done.returncode != 0:
            raise RuntimeError(f"xmlsec1 failed: {done.stderr.decode(errors='replace')[:500]}")
        return done.stdout


def sign(xml: bytes, shape: Shape, idp: TestIdP) -> bytes:
    """``xml`` signed as ``shape`` says (the assertion first when both are signed), then laid out."""
    root = etree.fromstring(xml)
    targets = []
    if shape.signed in ("assertion", "both"):
        targets.append(root.find(f"{{{SAML}}}Assertion"))
    if shape.signed in ("response", "both"):
        targets.append(root)
    for target in targets:
        uri = "" if (shape.whole_document_reference and target is root) else "#" + target.get("ID")
        signature = signature_template(target, shape, uri)
        if shape.signer == "xmlsec1":
            root = etree.fromstring(_sign_with_xmlsec1(etree.tostring(root), idp))
        else:
            sign_with_python_xmlsec(root, target, signature, idp)
    signed = etree.tostring(root)
    if shape.comments:
        signed = b"<!-- exported by the IdP's test tool -->\n" + signed + b"\n<!-- end -->"
    if shape.layout == "crlf":
        signed = signed.replace(b"\n", b"\r\n")
    if shape.bom_and_declaration:
        signed = b'\xef\xbb\xbf<?xml version="1.0" encoding="UTF-8"?>\n' + signed
    return signed


# --------------------------------------------------------------------------- what must not verify


def forge_name_id(signed: bytes) -> bytes:
    """The NameID changed after signing."""
    assert signed.count(NAME_ID.encode()) == 1
    return signed.replace(NAME_ID.encode(), FORGED_NAME_ID.encode())


def move_signed_assertion_aside(signed: bytes) -> bytes:
    """XSW: an unsigned assertion (with another NameID) takes the signed one's place; the signed one moves into
    samlp:Extensions, where a careless relying party still finds a valid signature."""
    body = signed.removeprefix(b"\xef\xbb\xbf")
    root = etree.fromstring(body)
    genuine = root.find(f"{{{SAML}}}Assertion")
    forged = copy.deepcopy(genuine)
    for own in forged.findall(f"{{{DS}}}Signature"):
        forged.remove(own)
    forged.set("ID", new_id())
    name_id = next(forged.iter(f"{{{SAML}}}NameID"))
    name_id.text = FORGED_NAME_ID
    genuine.addprevious(forged)
    extensions = etree.Element(f"{{{SAMLP}}}Extensions")
    root.find(f"{{{SAML}}}Issuer").addnext(extensions)
    extensions.append(genuine)
    return etree.tostring(root)


def corpus() -> list[Shape]:
    """The sound shapes: each axis varied from a default, plus the combinations production IdPs emit."""
    shapes = [Shape(signed=s) for s in ("assertion", "response", "both")]
    shapes += [Shape(layout=layout, signed=s) for layout in ("pretty", "crlf") for s in ("assertion", "response",
                                                                                         "both")]
    shapes += [Shape(namespaces=n, signed=s, layout=layout) for n in ("each", "default")
               for s in ("assertion", "both") for layout in ("compact", "pretty")]
    shapes += [Shape(ds_prefix=None, signed=s) for s in ("assertion", "response", "both")]
    shapes += [Shape(c14n="inclusive", signed=s, layout=layout) for s in ("assertion", "response", "both")
               for layout in ("compact", "pretty")]
    shapes += [Shape(c14n="inclusive", namespaces="default", signed="both"),
               Shape(c14n="inclusive", xml_lang=True, signed="assertion"),
               Shape(c14n="inclusive", xml_lang=True, signed="both", layout="pretty")]
    shapes += [Shape(prefix_list=True, signed=s) for s in ("assertion", "both")]  # Okta
    shapes += [Shape(algorithm=a, signed=s) for a in ("rsa-sha512", "ecdsa-sha256") for s in ("assertion", "both")]
    shapes += [Shape(comments=True, signed=s, layout="pretty") for s in ("assertion", "response")]
    shapes += [Shape(bom_and_declaration=True, signed=s, layout="pretty") for s in ("assertion", "both")]
    shapes += [Shape(whole_document_reference=True, signed=s) for s in ("response", "both")]
    shapes += [Shape(signer="xmlsec1", signed=s, layout=layout) for s in ("assertion", "both")
               for layout in ("compact", "pretty")]
    shapes += [Shape(signer="xmlsec1", c14n="inclusive", namespaces="default", signed="both", layout="pretty")]
    return list(dict.fromkeys(shapes))


def idp_for(shape: Shape) -> TestIdP:
    return TestIdP(key_type="ec", key_name="interop-ec") if shape.algorithm.startswith("ecdsa") else \
        TestIdP(key_name="interop")

