"""The attachment checker: vectors for every refusal and properties for names."""

from __future__ import annotations

import contextlib
import io
import zipfile

import pytest
from hypothesis import given
from hypothesis import strategies as st

from file_samples import JPEG, PDF, PE_EXECUTABLE, docx, png, xlsx, zip_of
from flowdesk.engines.files import (
    MAX_NAME_LENGTH,
    AttachmentRefused,
    FilePolicy,
    check_file,
    check_name,
    sanitise_filename,
)

POLICY = FilePolicy()
SMALL_ARCHIVES = FilePolicy(
    archive_max_uncompressed=4 * 1024 * 1024, archive_ratio_floor=64 * 1024, archive_max_entries=50
)


def check(name: str, data: bytes, policy: FilePolicy = POLICY, locale: str = "en"):
    return check_file(name, io.BytesIO(data), len(data), policy, locale)


def refusal(
    name: str, data: bytes, policy: FilePolicy = POLICY, locale: str = "en"
) -> AttachmentRefused:
    with pytest.raises(AttachmentRefused) as caught:
        check(name, data, policy, locale)
    return caught.value


@pytest.mark.parametrize(
    ("name", "data", "content_type"),
    [
        ("合同扫描件.pdf", PDF, "application/pdf"),
        ("photo.JPG", JPEG, "image/jpeg"),
        ("sig.png", png(), "image/png"),
        (
            "报告.docx",
            docx(),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        ("明细.xlsx", xlsx(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        ("notes.txt", "第一行\nsecond line\n".encode(), "text/plain; charset=utf-8"),
        ("导出.csv", "姓名,金额\n张三,100\n".encode("gb18030"), "text/csv"),
        ("bundle.zip", zip_of({"a.pdf": PDF, "b.txt": b"hello"}), "application/zip"),
        (
            "发票.ofd",
            zip_of({"OFD.xml": b"<ofd:OFD/>", "Doc_0/Document.xml": b"<d/>"}),
            "application/ofd",
        ),
    ],
)
def test_accepted_files_are_typed_by_their_extension(
    name: str, data: bytes, content_type: str
) -> None:
    checked = check(name, data)
    assert checked.display_name == name
    assert checked.content_type == content_type


@pytest.mark.parametrize(
    "name",
    ["invoice.pdf.exe", "a.php.jpg", "report.js.pdf", "shell.PHP5.png", "x.pdf.EXE", "a.asp.txt"],
)
def test_double_extensions_hiding_programs_are_refused(name: str) -> None:
    assert refusal(name, PDF).code == "attachment_double_extension"


@pytest.mark.parametrize(
    "name", ["setup.exe", "page.html", "noextension", "vector.svg", "macro.docm"]
)
def test_types_outside_the_policy_are_refused(name: str) -> None:
    error = refusal(name, PDF)
    assert error.code == "attachment_type_refused"
    assert error.status == 422


def test_legacy_office_is_off_unless_the_policy_allows_it() -> None:
    assert refusal("old.doc", PDF).code == "attachment_type_refused"


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("invoice.pdf", zip_of({"a.txt": b"x"})),  # a .pdf that is a ZIP
        ("photo.jpg", PDF),
        ("scan.pdf", PE_EXECUTABLE),
        ("notes.txt", PE_EXECUTABLE),
        ("notes.txt", b"abc\x00def"),
        ("table.csv", PDF),
        ("report.docx", zip_of({"a.txt": b"x"})),  # a ZIP, but not a Word document
        ("book.xlsx", docx()),
        ("archive.zip", b"PK\x03\x04 truncated"),
    ],
)
def test_bytes_that_do_not_match_the_extension_are_refused(name: str, data: bytes) -> None:
    assert refusal(name, data).code == "attachment_type_mismatch"


def test_too_large_is_413_with_the_limit() -> None:
    error = refusal("big.pdf", PDF, FilePolicy(max_bytes=10))
    assert (error.code, error.status) == ("attachment_too_large", 413)
    assert "10" in error.message


def test_empty_files_are_refused() -> None:
    assert refusal("empty.pdf", b"").code == "attachment_empty"


def test_messages_are_bilingual() -> None:
    assert "不符" in refusal("photo.jpg", PDF, locale="zh-CN").message
    assert "does not match" in refusal("photo.jpg", PDF, locale="en").message
    assert refusal("photo.jpg", PDF, locale="zh-CN").errors[0].path == "file"


def test_a_highly_compressed_archive_is_a_bomb() -> None:
    bomb = zip_of({"zeros.txt": b"\x00" * (2 * 1024 * 1024)})
    assert len(bomb) < 10_000
    assert refusal("bomb.zip", bomb, SMALL_ARCHIVES).code == "attachment_archive_bomb"


def test_too_much_uncompressed_data_is_a_bomb() -> None:
    stored = zip_of(
        {f"f{i}.txt": b"x" * 1024 * 1024 for i in range(5)}, compression=zipfile.ZIP_STORED
    )
    assert refusal("big.zip", stored, SMALL_ARCHIVES).code == "attachment_archive_bomb"


def test_too_many_entries_is_a_bomb() -> None:
    many = zip_of({f"{i}.txt": b"x" for i in range(51)})
    assert refusal("many.zip", many, SMALL_ARCHIVES).code == "attachment_archive_bomb"


def test_an_office_file_is_checked_for_bombs_too() -> None:
    members = {
        "[Content_Types].xml": b"<Types/>",
        "word/document.xml": b"<w:document>" + b" " * (2 * 1024 * 1024) + b"</w:document>",
    }
    assert refusal("bomb.docx", zip_of(members), SMALL_ARCHIVES).code == "attachment_archive_bomb"


def test_entries_sharing_bytes_are_a_bomb() -> None:
    """Fifield's non-recursive bomb: two central-directory entries point at one stream."""
    data = bytearray(zip_of({"a.txt": b"hello", "b.txt": b"world"}, compression=zipfile.ZIP_STORED))
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        second = archive.infolist()[1]
    directory = data.rfind(b"PK\x01\x02")  # the second central-directory record
    offset_field = directory + 42
    assert int.from_bytes(data[offset_field : offset_field + 4], "little") == second.header_offset
    data[offset_field : offset_field + 4] = (0).to_bytes(4, "little")
    assert refusal("overlap.zip", bytes(data)).code == "attachment_archive_bomb"


@pytest.mark.parametrize("inner", ["inner.zip", "deep/inner.7z", "tool.exe", "run.sh", "x.pdf.exe"])
def test_zip_with_nested_archives_or_programs_is_refused(inner: str) -> None:
    archive = zip_of({"ok.pdf": PDF, inner: b"payload"})
    assert refusal("outer.zip", archive).code == "attachment_archive_nested"


def test_encrypted_zip_is_refused() -> None:
    data = bytearray(zip_of({"secret.txt": b"x"}, compression=zipfile.ZIP_STORED))
    data[6] |= 0x1  # local header's flag bits
    directory = data.rfind(b"PK\x01\x02")
    data[directory + 8] |= 0x1  # central directory's flag bits
    assert refusal("secret.zip", bytes(data)).code == "attachment_archive_encrypted"


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("C:\\Users\\张三\\Desktop\\合同.pdf", "合同.pdf"),
        ("../../etc/passwd.txt", "passwd.txt"),
        ("report\u202efdp.exe", "reportfdp.exe"),
        ("  .hidden.pdf. ", "hidden.pdf"),
        ("a:b.pdf", "a_b.pdf"),
        ("tab\there.pdf", "tabhere.pdf"),
        ("", "attachment"),
    ],
)
def test_names_are_sanitised_for_display(raw: str, shown: str) -> None:
    assert sanitise_filename(raw) == shown


def test_a_right_to_left_override_cannot_disguise_a_program() -> None:
    with pytest.raises(AttachmentRefused) as caught:
        check_name("invoice\u202efdp.exe", POLICY)
    assert caught.value.code == "attachment_type_refused"


def test_a_full_width_dot_does_not_hide_an_extension() -> None:
    with pytest.raises(AttachmentRefused):
        check_name("invoice.pdf．exe", POLICY)


@given(st.text(max_size=400))
def test_any_sanitised_name_is_short_single_component_and_printable(raw: str) -> None:
    name = sanitise_filename(raw)
    assert 0 < len(name) <= MAX_NAME_LENGTH
    assert "/" not in name and "\\" not in name
    assert name.isprintable()
    assert not name.startswith(".") and not name.endswith((".", " "))
    assert sanitise_filename(name) == name  # stable


@given(st.text(alphabet=st.characters(categories=["L", "N"]), min_size=1, max_size=300))
def test_long_names_keep_their_extension(stem: str) -> None:
    assert sanitise_filename(stem + ".pdf").endswith(".pdf")


@given(st.sampled_from(sorted(POLICY.extensions)), st.sampled_from(["exe", "php", "js", "bat"]))
def test_every_allowed_extension_refuses_a_hidden_program(allowed: str, program: str) -> None:
    with pytest.raises(AttachmentRefused) as caught:
        check_name(f"file.{program}.{allowed}", POLICY)
    assert caught.value.code == "attachment_double_extension"


@given(st.binary(max_size=2048))
def test_random_bytes_never_crash_the_checker(data: bytes) -> None:
    for name in ("a.pdf", "a.zip", "a.txt", "a.docx", "a.png"):
        with contextlib.suppress(AttachmentRefused):
            check(name, data)
