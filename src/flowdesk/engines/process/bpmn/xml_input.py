"""Reading untrusted XML safely: defusedxml with DTDs, entities and external references
refused, a size cap, and the file's declared encoding honoured (GBK files included).

Every failure is a DefinitionInvalid at path "bpmn" with a stable code, never an
exception from the XML library reaching the caller.
"""

from __future__ import annotations

import codecs
import re
from xml.etree.ElementTree import Element, ParseError

import defusedxml  # type: ignore[import-untyped]  # no stubs; used through two calls
import defusedxml.ElementTree as safe_et  # type: ignore[import-untyped]

from flowdesk.kernel.errors import DefinitionInvalid, ErrorDetail

MAX_BPMN_BYTES = 5_000_000
MAX_ELEMENTS = 100_000
_DECLARED = re.compile(rb"""\A\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:-]{1,40})["']""")


def refuse(code: str, message: str, path: str = "bpmn") -> DefinitionInvalid:
    return DefinitionInvalid([ErrorDetail(path=path, code=code, message=message)])


def decode(data: bytes) -> str:
    """The text of an XML file: BOM first, then the declared encoding, else UTF-8."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    elif data.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    else:
        declared = _DECLARED.match(data[:300])
        encoding = declared.group(1).decode("ascii") if declared else "utf-8"
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise refuse(
            "unknown_encoding", f"The file declares an unknown encoding '{encoding}'"
        ) from None
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise refuse(
            "bad_encoding", f"The file is not valid {encoding} (byte {exc.start + 1})"
        ) from None


def parse_xml(data: str | bytes) -> Element:
    """The root element of `data`, parsed with every XML attack refused."""
    if len(data) > MAX_BPMN_BYTES:
        raise refuse("too_large", f"A BPMN file may be at most {MAX_BPMN_BYTES:,} bytes")
    text = decode(data) if isinstance(data, bytes) else data
    if len(text.encode("utf-8", "surrogatepass")) > MAX_BPMN_BYTES:
        raise refuse("too_large", f"A BPMN file may be at most {MAX_BPMN_BYTES:,} bytes")
    if not text.strip():
        raise refuse("empty_file", "The file is empty")
    try:
        root = safe_et.fromstring(text, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except defusedxml.DTDForbidden:
        raise refuse(
            "dtd_forbidden",
            "The file has a DOCTYPE (DTD), refused: BPMN files need none, and a DTD can "
            "declare entities that expand without bound or read local files",
        ) from None
    except defusedxml.EntitiesForbidden:
        raise refuse(
            "entities_forbidden",
            "The file declares XML entities (which can expand without bound); refused",
        ) from None
    except defusedxml.ExternalReferenceForbidden:
        raise refuse(
            "external_reference_forbidden",
            "The file refers to an external resource (an XXE attack); refused",
        ) from None
    except defusedxml.DefusedXmlException as exc:
        raise refuse(
            "xml_forbidden", f"The file uses an XML feature that is refused: {exc}"
        ) from None
    except ParseError as exc:
        line, column = exc.position
        reason = str(exc).split(":")[0]
        raise refuse(
            "xml_syntax", f"Not well-formed XML at line {line}, column {column + 1}: {reason}"
        ) from None
    except ValueError as exc:  # e.g. a character XML does not allow
        raise refuse("xml_syntax", f"Not well-formed XML: {exc}") from None
    for count, _ in enumerate(root.iter(), 1):
        if count > MAX_ELEMENTS:
            raise refuse(
                "too_many_elements", f"A BPMN file may hold at most {MAX_ELEMENTS:,} elements"
            )
    if not isinstance(root, Element):
        raise refuse("xml_syntax", "Not an XML document")
    return root
