"""What an attachment may be: the types by extension, what their bytes must sniff as,
and the limits. A deployment narrows or widens the list in its settings."""

from __future__ import annotations

from dataclasses import dataclass

MIB = 1024 * 1024

# Extension -> (the content type flowdesk serves it as, the kinds the sniffer may report).
# An empty kind set: a text type, recognised by having no binary signature at all.
KNOWN_TYPES: dict[str, tuple[str, frozenset[str]]] = {
    "pdf": ("application/pdf", frozenset({"pdf"})),
    "png": ("image/png", frozenset({"png", "apng"})),
    "jpg": ("image/jpeg", frozenset({"jpg"})),
    "jpeg": ("image/jpeg", frozenset({"jpg"})),
    "gif": ("image/gif", frozenset({"gif"})),
    "webp": ("image/webp", frozenset({"webp"})),
    "bmp": ("image/bmp", frozenset({"bmp"})),
    "tif": ("image/tiff", frozenset({"tif"})),
    "tiff": ("image/tiff", frozenset({"tif"})),
    "docx": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        frozenset({"docx", "zip"}),
    ),
    "xlsx": (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        frozenset({"xlsx", "zip"}),
    ),
    "pptx": (
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        frozenset({"pptx", "zip"}),
    ),
    # OFD (GB/T 33190): China's fixed-layout format, the e-invoice's; a ZIP package.
    "ofd": ("application/ofd", frozenset({"zip"})),
    "zip": ("application/zip", frozenset({"zip", "docx", "xlsx", "pptx", "epub"})),
    # Legacy Office (OLE compound files) can carry macros: known, but off by default.
    "doc": ("application/msword", frozenset({"doc", "xls", "ppt"})),
    "xls": ("application/vnd.ms-excel", frozenset({"doc", "xls", "ppt"})),
    "txt": ("text/plain; charset=utf-8", frozenset()),
    "csv": ("text/csv", frozenset()),
}

DEFAULT_EXTENSIONS: frozenset[str] = frozenset(KNOWN_TYPES) - {"doc", "xls"}

# Package formats that are ZIP archives inside, and the member that proves which one.
ZIP_PACKAGES: dict[str, tuple[str, ...]] = {
    "docx": ("[Content_Types].xml", "word/document.xml"),
    "xlsx": ("[Content_Types].xml", "xl/workbook.xml"),
    "pptx": ("[Content_Types].xml", "ppt/presentation.xml"),
    "ofd": ("OFD.xml",),
    "zip": (),
}

# Never accepted, and never hidden in a name before the real extension (a.php.jpg) nor
# inside a .zip: programs, scripts, server pages, shortcuts and active documents.
DANGEROUS_EXTENSIONS: frozenset[str] = frozenset(
    {
        "exe", "com", "bat", "cmd", "scr", "pif", "msi", "msp", "mst", "dll", "cpl", "sys",
        "drv", "ocx", "jar", "class", "js", "jse", "mjs", "vbs", "vbe", "vb", "wsf", "wsh",
        "wsc", "hta", "ps1", "psm1", "psd1", "sh", "bash", "zsh", "csh", "ksh", "php",
        "php3", "php4", "php5", "php7", "phtml", "phar", "pht", "asp", "aspx", "ashx",
        "asmx", "cer", "asa", "jsp", "jspx", "cgi", "pl", "py", "pyc", "rb", "lnk", "url",
        "reg", "inf", "scf", "htm", "html", "xhtml", "shtml", "svg", "xsl", "swf",
        "apk", "app", "dmg", "deb", "rpm", "elf", "bin", "run", "iso", "img", "vhd",
        "docm", "xlsm", "pptm", "dotm", "xltm", "xlam", "ppam", "appx", "msix", "gadget",
    }
)  # fmt: skip

# Inside a .zip these are archives in turn: refused, as their content is not checked.
ARCHIVE_EXTENSIONS: frozenset[str] = frozenset(
    {"zip", "rar", "7z", "gz", "tgz", "tar", "bz2", "xz", "zst", "lz", "lzma", "cab", "z",
     "arj", "lzh", "ace", "iso", "ofd", "docx", "xlsx", "pptx", "jar", "war", "ear"}
)  # fmt: skip


@dataclass(frozen=True)
class FilePolicy:
    """Limits for one upload. Ratios compare uncompressed to compressed bytes."""

    max_bytes: int = 20 * MIB
    extensions: frozenset[str] = DEFAULT_EXTENSIONS
    archive_max_entries: int = 2000
    archive_max_uncompressed: int = 200 * MIB
    archive_max_ratio: int = 100
    # Below this many uncompressed bytes a high ratio is harmless (a page of blanks).
    archive_ratio_floor: int = 1 * MIB

    def __post_init__(self) -> None:
        unknown = self.extensions - set(KNOWN_TYPES)
        if unknown:
            raise ValueError(f"unknown attachment extensions: {', '.join(sorted(unknown))}")
