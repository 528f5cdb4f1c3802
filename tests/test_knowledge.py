"""The knowledge base is validated as a whole; every problem names file, line and field."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.engine import Engine
from bot.knowledge import LANGS, ROLES, KnowledgeError, load_knowledge

DESIGN_DISTRICTS = {"hameln-pyrmont", "holzminden", "schaumburg", "hildesheim", "region-hannover",
                    "nienburg", "lippe", "minden-luebbecke", "hoexter", "herford"}
DESIGN_TOPICS = {
    "aufenthaltstitel", "wohnsitz-anmelden", "kfz-zulassung", "fuehrerschein", "elterngeld",
    "kita-platz", "kindergeld", "schuelerbefoerderung", "wohngeld", "buergergeld",
    "arbeitslos-melden", "schwerbehindertenausweis", "hilfe-zur-pflege", "hundesteuer",
    "personalausweis", "einkommensteuer", "baugenehmigung", "gewerbeanmeldung",
    "ihk-zugehoerigkeit", "handwerkskammer", "schwertransport", "berufsschule", "arbeitsschutz",
    "gaststaettenerlaubnis", "wasserrecht"}
PROBLEM_LINE = re.compile(r"^\S+\.yaml:\d+: \S+: .+")


def problems_of(root: Path) -> list[str]:
    with pytest.raises(KnowledgeError) as caught:
        load_knowledge(root)
    lines = [str(p) for p in caught.value.problems]
    assert all(PROBLEM_LINE.match(line) for line in lines), lines
    return lines


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_bundled_base_is_valid_and_complete():
    kb = load_knowledge()
    assert set(kb.districts) == DESIGN_DISTRICTS
    assert set(kb.topics) >= DESIGN_TOPICS and len(kb.topics) >= 65
    assert {d.land for d in kb.districts.values()} == {"NI", "NW"}
    assert len(kb.municipalities) >= 201
    for topic in kb.topics.values():
        assert topic.role in ROLES
        for lang in LANGS:
            assert len(topic.phrases[lang]) >= 10, (topic.id, lang)


def test_every_office_names_its_source_and_check_date():
    kb = load_knowledge()
    for kind in kb.office_kinds.values():
        for office in kind.offices:
            assert office.source and re.match(r"\d{4}-\d{2}-\d{2}$", office.checked), office.id


def test_yaml_syntax_error_names_file_and_line(kb_copy: Path):
    (kb_copy / "topics" / "wohngeld.yaml").write_text("id: wohngeld\nrole: [residence\n")
    found = problems_of(kb_copy)
    assert any(p.startswith("knowledge/topics/wohngeld.yaml:") and "syntax" in p for p in found)


def test_unknown_role_is_reported_with_its_line(kb_copy: Path):
    path = kb_copy / "topics" / "wohngeld.yaml"
    line = next(i for i, text in enumerate(path.read_text().splitlines(), 1)
                if text.startswith("role:"))
    edit(path, "role: residence", "role: birthplace")
    assert f"knowledge/topics/wohngeld.yaml:{line}: role: unknown role 'birthplace' (known: " \
        "residence, business_site, property, route_start, site, event_place)" in problems_of(kb_copy)


def test_wrong_type_is_reported(kb_copy: Path):
    edit(kb_copy / "districts.yaml", "land: NI", "land: [NI]")
    assert any("districts.yaml" in p and "land: must be a text" in p for p in problems_of(kb_copy))


def test_duplicate_office_id_is_reported(kb_copy: Path):
    offices = kb_copy / "offices"
    first = next(iter(sorted(offices.glob("*.yaml"))))
    other = sorted(offices.glob("*.yaml"))[1]
    taken = load_knowledge().office_kinds[first.stem].offices[0].id
    own = load_knowledge().office_kinds[other.stem].offices[0].id
    edit(other, f"id: {own}", f"id: {taken}")
    assert any(f"duplicate office id '{taken}'" in p for p in problems_of(kb_copy))


def test_topic_without_office_in_a_district_is_reported(kb_copy: Path):
    (kb_copy / "offices" / "jobcenter.yaml").write_text(
        "kind: jobcenter\nlabel: {de: Jobcenter, en: job centre}\noffices:\n"
        "  - id: only-lippe\n    name: Jobcenter Lippe\n    districts: [lippe]\n"
        "    source: https://example.org\n    checked: 2026-11-25\n")
    found = problems_of(kb_copy)
    assert any("jobcenter.yaml" in p and "no office in district 'hameln-pyrmont'" in p
               and "buergergeld" in p for p in found)


def test_undeclared_ambiguous_place_name_is_reported(kb_copy: Path):
    edit(kb_copy / "places" / "lippe.yaml", 'postcodes: ["32676"]\n    aliases: []',
         'postcodes: ["32676"]\n    aliases: [Hameln]')
    assert any("place name 'hameln' means" in p for p in problems_of(kb_copy))


def test_a_key_given_twice_is_reported(kb_copy: Path):
    edit(kb_copy / "places" / "lippe.yaml", "name: Lügde", "name: Lügde\n    aliases: [Hameln]")
    assert any("lippe.yaml:" in p and "key 'aliases' is given twice" in p
               for p in problems_of(kb_copy))


def test_engine_refuses_an_invalid_base_with_the_same_messages(kb_copy: Path):
    edit(kb_copy / "topics" / "wohngeld.yaml", "role: residence", "role: birthplace")
    with pytest.raises(KnowledgeError) as caught:
        Engine.load(kb_copy)
    assert "role: unknown role 'birthplace'" in str(caught.value)


def test_a_source_without_a_url_or_cut_off_mid_sentence_is_refused(kb_copy: Path):
    path = kb_copy / "offices" / "familienkasse.yaml"
    text = path.read_text()
    start = text.index("    source:")
    end = text.index("\n", start)
    path.write_text(text[:start] + '    source: "Kreisaufgabe; Kreisverwaltung laut"' + text[end:])
    problems = problems_of(kb_copy)
    assert any("familienkasse.yaml" in p and "source: needs the full URL" in p for p in problems)
    path.write_text(text[:start] + '    source: "Familienkasse https://www.arbeitsagentur.de, laut"'
                    + text[end:])
    assert any("source: ends mid-sentence" in p for p in problems_of(kb_copy))


def test_staff_notes_never_reach_a_citizen(engine):
    staff = [o.staff_note for k in engine.kb.office_kinds.values() for o in k.offices if o.staff_note]
    assert staff
    for office_kind in engine.kb.office_kinds.values():
        for office in office_kind.offices:
            shown = " ".join(office.note.values()) + str(office.to_json())
            assert not any(note in shown for note in staff)


def test_a_link_for_a_land_that_districts_yaml_does_not_know_is_reported(kb_copy: Path):
    path = next(p for p in sorted((kb_copy / "topics").glob("*.yaml")) if "land: NW" in p.read_text())
    path.write_text(path.read_text().replace("land: NW", "land: XX", 1))
    assert any(f"topics/{path.name}:" in p and "land: unknown Land 'XX' (known: NI, NW)" in p
               for p in problems_of(kb_copy))
