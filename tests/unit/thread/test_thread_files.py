"""The file tools' pure parts: page selection grammar, PDF cutting, file kinds, verdicts."""

from __future__ import annotations

import io

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pypdf import PdfReader, PdfWriter

from actors.thread.state import FileNote
from actors.thread.tools.base import ToolFailure
from actors.thread.tools.self_critique import _verdict
from actors.thread.tools.thread_files import MAX_PAGES, kind_of, parse_pages, pdf_pages


def pdf(pages: int) -> bytes:
    writer = PdfWriter()
    for i in range(pages):
        writer.add_blank_page(width=100 + i, height=100)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_page_specs() -> None:
    """all, single pages, ranges, repeats dropped, order kept."""
    assert parse_pages("all", 3) == [1, 2, 3]
    assert parse_pages(None, 2) == [1, 2]
    assert parse_pages("2", 3) == [2]
    assert parse_pages(" 1-2 , 3, 2 ", 5) == [1, 2, 3]
    assert parse_pages("4-5,1", 5) == [4, 5, 1]


@pytest.mark.parametrize("spec", ["0", "4", "3-2", "a", "1;2", "", "1-", 7])
def test_bad_page_specs_are_refused_with_a_reason(spec: object) -> None:
    """Out of range, backwards, not a number: invalid_input, never an exception escaping."""
    with pytest.raises(ToolFailure) as caught:
        parse_pages(spec, 3)
    assert caught.value.error_class == "invalid_input"


@given(st.text(max_size=30), st.integers(min_value=1, max_value=500))
def test_any_spec_gives_valid_pages_or_invalid_input(spec: str, total: int) -> None:
    """Whatever the model writes: pages within 1..total, no repeats, at most MAX_PAGES."""
    try:
        pages = parse_pages(spec, total)
    except ToolFailure as exc:
        failure: ToolFailure | None = exc
        pages = []
    else:
        failure = None
    assert failure is None or failure.error_class == "invalid_input"
    assert all(1 <= p <= total for p in pages)
    assert len(pages) == len(set(pages)) <= MAX_PAGES


def test_pdf_pages_keeps_only_the_chosen_pages() -> None:
    """A 4-page PDF cut to pages 2 and 4 has 2 pages, the right ones."""
    data, pages, total = pdf_pages(pdf(4), "2, 4")
    reader = PdfReader(io.BytesIO(data))
    assert (pages, total, len(reader.pages)) == ([2, 4], 4, 2)
    assert [float(p.mediabox.width) for p in reader.pages] == [101.0, 103.0]


def test_a_broken_pdf_is_invalid_input() -> None:
    """Bytes that are not a PDF: a clear invalid_input failure."""
    with pytest.raises(ToolFailure) as caught:
        pdf_pages(b"not a pdf at all", "all")
    assert caught.value.error_class == "invalid_input"


def test_file_kinds() -> None:
    """Photos and image documents are images; PDFs and text files by type or name."""
    assert kind_of(FileNote(kind="photo", file_id="a")) == "image"
    assert kind_of(FileNote(kind="document", file_id="b", mime_type="application/pdf")) == "pdf"
    assert kind_of(FileNote(kind="document", file_id="c", file_name="x.csv")) == "text"
    assert kind_of(FileNote(kind="voice", file_id="d", mime_type="audio/ogg")) == "other"


def test_reviewer_verdicts_are_parsed_or_unknown() -> None:
    """The reviewer's JSON (even wrapped in prose) is its verdict; anything else is UNKNOWN."""
    assert _verdict('Sure: {"verdict": "FAIL", "summary": "wrong"} done')["verdict"] == "FAIL"
    assert _verdict('{"verdict": "MAYBE"}')["verdict"] == "UNKNOWN"
    assert _verdict("no json here")["summary"] == "no json here"
