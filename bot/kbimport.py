"""Import the official gazetteer into the knowledge base: every German municipality outside the region.

A maintainer's tool, run by hand when Destatis publishes a new Gemeindeverzeichnis; the bot never
reads the reference file, only the YAML this writes:

    python -m bot.kbimport ../shared/reference/germany_municipalities.csv

It writes `knowledge/places/germany.yaml` (every municipality outside the ten districts, with AGS,
district, Land, population, postcodes and the short names people use) and sets `population` on the
region's own municipalities, so that of two places with one name the likelier can be chosen.
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
from collections import defaultdict
from pathlib import Path

import yaml

from bot.knowledge import BUNDLED

SOURCE = (
    "Municipalities, AGS, districts, Länder and population: © Statistisches Bundesamt (Destatis), "
    "Gemeindeverzeichnis GV100AD, Gebietsstand 30.11.2025, dl-de/by-2-0, "
    "https://www.destatis.de/DE/Themen/Laender-Regionen/Regionales/Gemeindeverzeichnis/_inhalt.html "
    "(copy read: https://github.com/Ma-Loma/Hessen_END_Healthiar/blob/6cb82e02b04cb849a105627d81c954b09c34a95e/"
    "data/Gebietstabellen/raw/GV100AD_30112025.txt); postcodes: © OpenStreetMap contributors, ODbL 1.0, "
    "via suche-postleitzahl.org zuordnung_plz_ort.csv, https://www.suche-postleitzahl.org/downloads "
    "(copy read: https://github.com/Joeatc/F73-SQL/blob/85f66802d928023d7bf718122fd0ab4b8f759d7b/"
    "zuordnung_plz_ort.csv). Short names (\"Frankfurt\" for Frankfurt am Main) are derived from the "
    "official names by dropping the river or landscape part."
)
READ = "2026-12-02"

# "Frankfurt am Main" → "Frankfurt", "Halle (Saale)" → "Halle", "Freiburg im Breisgau" → "Freiburg"
_TAIL = re.compile(r"\s*\(.*\)$|\s+(?:am|an der|an den|im|in der|in|ob der|bei|vor der|auf der|"
                   r"a\.|i\.|a\. ?d\.|v\. ?d\.|b\.|ob)\s.*$|/.*$")

LAND_NAMES = {
    "01": ("Schleswig-Holstein", []), "02": ("Hamburg", []), "03": ("Niedersachsen", ["Lower Saxony"]),
    "04": ("Bremen", []), "05": ("Nordrhein-Westfalen", ["NRW", "North Rhine-Westphalia"]),
    "06": ("Hessen", ["Hesse"]), "07": ("Rheinland-Pfalz", ["Rhineland-Palatinate"]),
    "08": ("Baden-Württemberg", ["BW"]), "09": ("Bayern", ["Bavaria"]), "10": ("Saarland", []),
    "11": ("Berlin", []), "12": ("Brandenburg", []),
    "13": ("Mecklenburg-Vorpommern", ["Meck-Pomm", "MV"]), "14": ("Sachsen", ["Saxony"]),
    "15": ("Sachsen-Anhalt", ["Saxony-Anhalt"]), "16": ("Thüringen", ["Thuringia"]),
}


def common_name(destatis: str) -> str:
    """'Flensburg, Stadt' → 'Flensburg': the part before the status suffix."""
    return destatis.split(",")[0].strip()


def short_name(name: str) -> str | None:
    short = _TAIL.sub("", name).strip()
    return short if short and short != name else None


def district_label(name: str, kind: str) -> str:
    name = common_name(name)
    if kind in ("kreisfreie Stadt", "Stadtkreis", "Stadtstaat"):
        return name
    if kind == "Regionalverband":
        return f"Regionalverband {name}"
    return f"{'Kreis' if kind == 'Kreis' else 'Landkreis'} {name}"


def build(rows: list[dict[str, str]], region_keys: set[str]) -> dict:
    districts: dict[str, dict] = {}
    for r in sorted(rows, key=lambda r: r["ags"]):
        if r["district_key"] in region_keys:
            continue
        d = districts.setdefault(r["district_key"], {
            "key": r["district_key"], "name": district_label(r["district"], r["district_type"]),
            "municipalities": []})
        name = common_name(r["municipality"])
        short = short_name(name) or ""
        d["municipalities"].append(f"{r['ags']}; {name}; {int(r['population'] or 0)}; "
                                   f"{r['postcodes']}; {short}".rstrip("; "))
    lands = {key: {"name": name, "aliases": aliases} for key, (name, aliases) in LAND_NAMES.items()}
    return {"source": SOURCE, "checked": READ, "lands": lands, "districts": list(districts.values())}


class _Block(str):
    """Text written as a YAML literal block: one municipality a line, parsed in one go."""


def _dump(data: dict) -> str:
    class Dumper(yaml.SafeDumper):
        pass

    Dumper.add_representer(_Block, lambda d, v: d.represent_scalar(
        "tag:yaml.org,2002:str", v, style="|"))
    for d in data["districts"]:
        d["municipalities"] = _Block("\n".join(d["municipalities"]) + "\n")
    return yaml.dump(data, Dumper=Dumper, allow_unicode=True, sort_keys=False, width=100)


def set_population(folder: Path, population: dict[str, int]) -> None:
    """Write `population:` after each region municipality's `type:` line (text edit: keeps comments)."""
    for path in sorted(folder.glob("*.yaml")):
        if path.stem == "germany":
            continue
        lines, out, ags = path.read_text(encoding="utf-8").splitlines(), [], None
        for line in lines:
            if re.match(r"\s+population:", line):
                continue
            out.append(line)
            m = re.match(r"\s+ags: \"(\d{8})\"", line)
            if m:
                ags = m.group(1)
            t = re.match(r"(\s+)type: ", line)
            if t and ags in population:
                out.append(f"{t.group(1)}population: {population[ags]}")
        path.write_text("\n".join(out) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.kbimport", description=__doc__.split("\n")[0])
    parser.add_argument("csv", type=Path, help="germany_municipalities.csv (GV100AD + OSM postcodes)")
    parser.add_argument("--knowledge", type=Path, default=BUNDLED)
    args = parser.parse_args(argv)
    # Read directly: the loader itself needs this file to be valid already.
    districts = yaml.safe_load((args.knowledge / "districts.yaml").read_text(encoding="utf-8"))
    region_keys = {str(d["key"]) for d in districts["districts"]}
    with args.csv.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    header = ("# Every German municipality outside the ten districts, so that a place outside is recognised\n"
              "# exactly. Generated by `python -m bot.kbimport` from the sources below; schema: "
              "knowledge/README.md.\n# Each municipality: [AGS, name, population, postcodes, short names].\n")
    target = args.knowledge / "places" / "germany.yaml"
    target.write_text(header + _dump(build(rows, region_keys)), encoding="utf-8")
    population: dict[str, int] = defaultdict(int)
    for r in rows:
        population[r["ags"]] = int(r["population"] or 0)
    set_population(args.knowledge / "places", population)
    print(f"wrote {target} and the population of the region's municipalities", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
