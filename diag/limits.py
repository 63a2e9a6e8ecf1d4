"""Bounds on untrusted input shared by several modules; a bound that only one module applies sits next to its use."""
from __future__ import annotations

MAX_FILE_BYTES = 64 * 1024 * 1024  # an evidence file read whole (anything but a HAR)
# A HAR is read one entry at a time, so memory follows its largest entry; this bounds only the time a run takes.
MAX_CAPTURE_BYTES = 1024 * 1024 * 1024
MAX_XML_BYTES = 8 * 1024 * 1024  # one SAML message or metadata document after decoding
MAX_INFLATED_BYTES = 8 * 1024 * 1024  # Redirect-binding inflate output: a deflate bomb is an error
MAX_BASE64_CHARS = 12 * 1024 * 1024  # a base64 blob larger than this cannot decode to an acceptable XML
MAX_URL_DECODE_ROUNDS = 3  # double (or triple) URL-encoding seen in copied URLs
MAX_TEXT_EXCERPT = 300  # characters of an error page or value shown in a report
MAX_HAR_ENTRIES = 20000
