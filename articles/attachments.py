"""What an article's attachment may be: a PDF, a Word document or an Excel workbook, no larger
than ATTACHMENT_MAX_BYTES, recognised by its name AND by its bytes.

The name alone proves nothing (a program renamed to worksheet.pdf); the bytes are checked
as each format starts: a PDF with `%PDF-`, a DOCX or XLSX is a zip (Office Open XML) whose
[Content_Types].xml declares the main part of a document or a workbook. The file is served
only as a download (Content-Disposition: attachment, nosniff), so a browser never renders it.
"""

import os
import secrets
import zipfile

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import models, transaction
from django.template.defaultfilters import filesizeformat

PDF_MAGIC = b"%PDF-"
# What [Content_Types].xml declares for the main part of each Office Open XML kind.
OOXML_MAIN_PARTS = {
    "docx": b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
    "xlsx": b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
}
# A real [Content_Types].xml is a few kB; reading no more keeps a zip bomb from costing memory.
CONTENT_TYPES_MAX_BYTES = 1024 * 1024


class Kind(models.TextChoices):
    PDF = "pdf", "PDF"
    DOCX = "docx", "Word document"
    XLSX = "xlsx", "Excel workbook"


A_KIND = {Kind.PDF: "a PDF", Kind.DOCX: "a Word document", Kind.XLSX: "an Excel workbook"}
CONTENT_TYPES = {
    Kind.PDF: "application/pdf",
    Kind.DOCX: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    Kind.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def kind_of_name(name: str) -> str:
    """The kind a file name claims by its extension ("" for none we accept)."""
    extension = os.path.splitext(name)[1].lower().lstrip(".")
    return extension if extension in Kind.values else ""


def stored_name(instance, filename: str) -> str:
    """Where an upload is stored: a random name, so no one can guess another file's path.

    The reader's download is named after the upload (Attachment.filename); the stored
    name keeps only the extension.
    """
    return f"attachments/{secrets.token_urlsafe(24)}.{kind_of_name(filename) or 'bin'}"


def validate_upload(file) -> None:
    """Refuse a new upload that is not a PDF, DOCX or XLSX by name and bytes, or is too large.

    A file already stored was checked when it was uploaded, and is not read again.
    """
    if getattr(file, "_committed", True):
        return
    kind = kind_of_name(file.name)
    if not kind:
        raise ValidationError(
            "Upload a PDF, Word (.docx) or Excel (.xlsx) file; %(name)s is none of those.",
            code="extension",
            params={"name": os.path.basename(file.name)},
        )
    limit = settings.ATTACHMENT_MAX_BYTES
    if file.size > limit:
        raise ValidationError(
            "This file is %(size)s; attachments may be at most %(limit)s (ATTACHMENT_MAX_BYTES).",
            code="too_large",
            params={"size": filesizeformat(file.size), "limit": filesizeformat(limit)},
        )
    if not _content_is(kind, file):
        raise ValidationError(
            "This file's name ends in .%(kind)s but its content is not %(what)s. "
            "Export it again from the program that made it.",
            code="content",
            params={"kind": kind, "what": A_KIND[kind]},
        )


def _content_is(kind: str, file) -> bool:
    file.seek(0)
    try:
        if kind == Kind.PDF:
            return file.read(len(PDF_MAGIC)) == PDF_MAGIC
        return _ooxml_declares(file, OOXML_MAIN_PARTS[kind])
    finally:
        file.seek(0)


def _ooxml_declares(file, main_part: bytes) -> bool:
    try:
        with zipfile.ZipFile(file) as archive, archive.open("[Content_Types].xml") as entry:
            return main_part in entry.read(CONTENT_TYPES_MAX_BYTES)
    except (zipfile.BadZipFile, KeyError, OSError, EOFError, RuntimeError):
        # not a zip, no [Content_Types].xml, truncated, or encrypted
        return False


def delete_stored_on_commit(name: str) -> None:
    """Delete a stored file once the row that named it is gone (or names another) for good.

    After the commit: a rolled-back delete or replacement must still find its file.
    """
    if name:
        transaction.on_commit(lambda: default_storage.delete(name))
