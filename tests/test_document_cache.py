"""The sample document converted once per panel object, and JSON text without the stdlib encoder.

Truth is the standard library and the shared converter: ``DocumentCache.plain``
must equal ``report.plain.to_plain``, and ``jsonindent.dumps`` must give the
text of ``json.dumps(..., indent=2, ensure_ascii=False)`` byte for byte, also
when a second document reuses the first one's cached fragments.
"""

from __future__ import annotations

import enum
import json
import math
from pathlib import Path

import pytest

from annotator.annotation.document import DocumentCache, sample_document
from annotator.io import jsonindent, jsonout
from annotator.report import context, html
from annotator.report.plain import to_plain
from tests.test_report_data import HOSTILE, demo_sample


class Colour(enum.IntEnum):
    RED = 1


class Name(str):
    pass


def _stdlib(value: object) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


@pytest.mark.parametrize("value", [
    {}, [], "", 0, None, True, 1.5,
    {"a": [], "b": {}, "c": [[], [{}]], "d": [1, [2, [3, {"e": None}]]]},
    {"text": "é€𝄞 \"quoted\" back\\slash \n\t\r\b\f \x00\x1f \u2028 </script>"},
    {"f": [math.nan, math.inf, -math.inf, -0.0, 1e-05, 1e16, 0.1 + 0.2, 123456789.0, 5e-324]},
    {"i": [2**70, -1, 0, Colour.RED, False]},
    {7: "int key", 2.5: "float key", True: "bool key", None: "none key", Name("sub"): Name("str sub")},
    ("a", ("tuple", "in tuple")),
])
def test_dumps_is_the_stdlib_text(value: object) -> None:
    assert jsonindent.dumps(value) == _stdlib(value)
    assert jsonindent.dumps(value, ensure_ascii=True) == json.dumps(value, indent=2)  # provenance.json


def test_dumps_refuses_what_the_stdlib_refuses() -> None:
    for bad in ({"a": {1, 2}}, {(1, 2): "tuple key"}, [object()]):
        with pytest.raises(TypeError):
            _stdlib(bad)
        with pytest.raises(TypeError):
            jsonindent.dumps(bad)


def test_fragments_are_reindented_where_they_appear() -> None:
    shared = {"name": "mechanism", "evidence": [{"id": "EV-1", "figures": ["30%"]}, {"id": "EV-2"}], "none": []}
    frag = jsonindent.Fragments(constant={id(shared), id(shared["evidence"])})
    doc = {"top": shared, "deep": [[{"x": shared}]], "list": shared["evidence"]}
    assert jsonindent.dumps(doc, frag) == _stdlib(doc)
    assert frag.text  # encoded once, kept
    assert jsonindent.dumps(doc, frag) == _stdlib(doc)  # and reused


def _documents() -> list[tuple[dict, object]]:
    docs = []
    for name, hostile in (("PT-017 plasma T1", None), ("S2", HOSTILE), ("S3", None)):
        sa, prov, panel = demo_sample(name, hostile=hostile)
        docs.append((sample_document(sa, prov.as_dict(), panel), panel))
    return docs


def test_plain_document_equals_to_plain_and_json_equals_stdlib() -> None:
    docs = _documents()
    panels = {id(p) for _, p in docs}
    caches = {pid: DocumentCache(next(p for _, p in docs if id(p) == pid)) for pid in panels}
    for _round in range(2):  # the second round is served from the cache
        for doc, panel in docs:
            cache = caches[id(panel)]
            plain = cache.plain(doc)
            assert plain == to_plain(doc)
            assert jsonindent.dumps(plain, cache.fragments) == _stdlib(jsonout.to_jsonable(doc))
    assert any(c.fragments.constant for c in caches.values())  # the panel's objects were shared


def test_cached_panel_objects_are_not_changed_by_the_report(tmp_path: Path) -> None:
    doc, panel = _documents()[0]
    cache = DocumentCache(panel)  # type: ignore[arg-type]
    plain = cache.plain(doc)
    before = json.dumps(plain)
    page = html.render_sample_document(plain, cache.panel_info(), plain=True)
    assert json.dumps(plain) == before
    assert page == html.render_sample_document(to_plain(doc), context.panel_info(panel))
    jsonout.write_plain(tmp_path / "x.json", plain, cache.fragments)
    jsonout.write(tmp_path / "y.json", doc)
    assert (tmp_path / "x.json").read_bytes() == (tmp_path / "y.json").read_bytes()


def test_a_documents_own_fragments_go_with_it_and_the_panels_stay() -> None:
    panel_value = {"mechanism": ["shared", "by every document"]}
    run = jsonindent.Fragments(constant={id(panel_value)})
    first = run.layer()
    match = {"rule": "R1", "mechanism": panel_value}
    first.constant.add(id(match))
    doc = {"explanations": [{"matches": [match]}, {"matches": [match]}]}
    assert jsonindent.dumps(doc, first) == _stdlib(doc)
    assert id(panel_value) in run.text and id(match) not in run.text  # only the run's own is kept
    assert first.text_of(id(match)) is not None
    second = run.layer()  # the next document: the match's id may now name another value
    other = {"rule": "R2"}
    assert not second.holds(id(match)) and second.holds(id(panel_value))
    doc2 = {"a": other, "b": [panel_value]}
    assert jsonindent.dumps(doc2, second) == _stdlib(doc2)
