"""Decryption (diag.decrypt) of EncryptedAssertion / EncryptedID with the SP key, then verification as plain."""
from __future__ import annotations

import pytest
from lxml import etree

from ssodiag.diag.certs import load_certificates
from ssodiag.diag.decrypt import decrypt_message
from ssodiag.diag.model import Expectations, SignatureVerdict
from ssodiag.diag.saml import parse_message
from ssodiag.diag.signature import verify_message
from ssodiag.diag.xmlparse import NS, parse_xml
from tests.idp import TestIdP, sp_keypair

IDP = TestIdP()
TRUSTED = load_certificates(IDP.cert_pem.encode(), "idp.pem")
SP_KEY, SP_CERT = sp_keypair()
OTHER_SP_KEY, OTHER_SP_CERT = sp_keypair("other-sp")
AES256_CBC = "http://www.w3.org/2001/04/xmlenc#aes256-cbc"
RSA_OAEP = "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p"


def encrypted(**kw) -> bytes:
    return IDP.encrypt_assertion(IDP.signed_response(name_id="bob@example.test"), SP_CERT, **kw)


def test_decrypted_assertion_is_parsed_and_its_signature_verified():
    msg = parse_message(encrypted(), source="enc.xml")
    assert msg.assertions == () and msg.encrypted_parts[0].data_algorithm == AES256_CBC
    out = decrypt_message(msg, SP_KEY)
    [assertion] = out.assertions
    assert assertion.name_id.value == "bob@example.test"
    assert assertion.decrypted_from.decrypted and assertion.decrypted_from.data_algorithm == AES256_CBC
    assert assertion.decrypted_from.key_algorithm == RSA_OAEP
    assert out.encrypted_parts == ()
    report = verify_message(out, TRUSTED, ())
    assert report.verdict is SignatureVerdict.VALID
    assert report.signed_elements[0].element == "Assertion" and report.signed_elements[0].covers_consumed_data


def test_the_input_message_is_not_mutated():
    msg = parse_message(encrypted(), source="enc.xml")
    decrypt_message(msg, SP_KEY)
    assert msg.root.find("saml:EncryptedAssertion", NS) is not None
    assert msg.root.find("saml:Assertion", NS) is None


def test_response_signed_over_the_ciphertext_still_verifies_after_decryption():
    # IdP order (SAML core §6.2): sign the assertion, encrypt it, then sign the Response over the ciphertext
    doc = IDP.sign(encrypted(), what="response")
    out = decrypt_message(parse_message(doc, source="enc.xml"), SP_KEY)
    report = verify_message(out, TRUSTED, ())
    assert report.verdict is SignatureVerdict.VALID
    assert {e.element: e.verified for e in report.signed_elements} == {"Response": True, "Assertion": True}
    assert report.rules_broken == ()


@pytest.mark.parametrize("data_algorithm,key_algorithm", [("aes128-cbc", "rsa-oaep"), ("aes256-gcm", "rsa-oaep"),
                                                          ("aes128-cbc", "rsa-1_5")])
def test_other_algorithms(data_algorithm, key_algorithm):
    doc = encrypted(data_algorithm=data_algorithm, key_algorithm=key_algorithm)
    out = decrypt_message(parse_message(doc, source="enc.xml"), SP_KEY)
    assert out.assertions[0].name_id.value == "bob@example.test"
    assert out.assertions[0].decrypted_from.data_algorithm.endswith(data_algorithm)


def test_wrong_key_keeps_the_part_with_an_error():
    out = decrypt_message(parse_message(encrypted(), source="enc.xml"), OTHER_SP_KEY)
    assert out.assertions == ()
    [part] = out.encrypted_parts
    assert not part.decrypted and "wrong SP key" in part.error and part.data_algorithm == AES256_CBC


def test_unreadable_key_is_an_error_on_every_part_not_a_crash():
    out = decrypt_message(parse_message(encrypted(), source="enc.xml"), b"-----BEGIN PRIVATE KEY-----\nxx\n")
    assert "not a PEM private key" in out.encrypted_parts[0].error


def test_corrupt_ciphertext_is_an_error():
    root = parse_xml(encrypted())
    values = root.findall(".//xenc:CipherData/xenc:CipherValue", NS)
    values[-1].text = "AAAA" + values[-1].text[4:]  # the data, not the key: padding/decoding fails
    out = decrypt_message(parse_message(etree.tostring(root), source="enc.xml"), SP_KEY)
    assert out.assertions == () and out.encrypted_parts[0].error


def test_encrypted_key_beside_the_encrypted_data_is_found():
    # SAML core §2.2.4: the EncryptedKey may be a sibling of EncryptedData (referenced by ds:RetrievalMethod)
    root = parse_xml(encrypted())
    wrapper = root.find("saml:EncryptedAssertion", NS)
    key = wrapper.find("xenc:EncryptedData/ds:KeyInfo/xenc:EncryptedKey", NS)
    wrapper.append(key)
    out = decrypt_message(parse_message(etree.tostring(root), source="enc.xml"), SP_KEY)
    assert out.assertions[0].name_id.value == "bob@example.test"


def test_plaintext_relying_on_ancestor_namespace_declarations_is_parsed():
    # the assertion's saml: prefix is declared only on the Response, as some IdPs serialise it
    response = IDP.response(name_id="carol@example.test").replace(
        f'<saml:Assertion xmlns:saml="{NS["saml"]}"'.encode(), b"<saml:Assertion")
    out = decrypt_message(parse_message(IDP.encrypt_assertion(response, SP_CERT), source="enc.xml"), SP_KEY)
    assert out.assertions[0].name_id.value == "carol@example.test"


def test_wrapper_holding_something_else_than_an_assertion_is_refused():
    doc = encrypted()
    root = parse_xml(doc)
    wrapper = root.find("saml:EncryptedAssertion", NS)
    # re-encrypt a NameID in place of the assertion: decrypts fine, but is not an Assertion
    name_id_doc = IDP.encrypt_name_id(IDP.response(), SP_CERT)
    encrypted_id = parse_xml(name_id_doc).find(".//saml:EncryptedID", NS)
    wrapper.replace(wrapper.find("xenc:EncryptedData", NS), encrypted_id.find("xenc:EncryptedData", NS))
    out = decrypt_message(parse_message(etree.tostring(root), source="enc.xml"), SP_KEY)
    assert out.assertions == () and "expected <Assertion>" in out.encrypted_parts[0].error


def test_encrypted_name_id_is_decrypted_or_kept_with_its_error():
    doc = IDP.encrypt_name_id(IDP.response(name_id="dave@example.test"), SP_CERT)
    msg = parse_message(doc, source="encid.xml")
    assert msg.assertions[0].name_id is None and msg.assertions[0].encrypted_parts[0].element == "EncryptedID"
    out = decrypt_message(msg, SP_KEY)
    assert out.assertions[0].name_id.value == "dave@example.test" and out.assertions[0].encrypted_parts == ()
    failed = decrypt_message(msg, OTHER_SP_KEY)
    assert failed.assertions[0].name_id is None
    assert "wrong SP key" in failed.assertions[0].encrypted_parts[0].error


def test_the_sp_key_never_shows_in_a_repr():
    key = sp_keypair()[0]
    shown = repr(Expectations(sp_key_pem=key, sp_entity_id="https://sp.example.test"))
    assert key.decode().splitlines()[1] not in shown and "sp_key_pem=<hidden>" in shown
    assert "sp_entity_id='https://sp.example.test'" in shown and "sp_key_pem=None" in repr(Expectations())
