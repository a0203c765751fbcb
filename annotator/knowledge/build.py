"""Cross-reference checks and construction of the typed ``Panel``.

Schema validation (``loader``) guarantees shapes; this module checks that
every id a rule, strategy, mechanism or marker points at exists, that ids
are unique, that evidence levels are on the panel's scale and that every
citation names a reference the cited source document actually lists.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace
from types import MappingProxyType

from annotator.core.jsondoc import JsonObject
from annotator.errors import PanelError
from annotator.knowledge.loader import ID_KEY, LIST_SECTIONS, Entry, RawPanel
from annotator.knowledge.matcher import DEFAULT_CLASSES
from annotator.knowledge.model import (
    MATCH_LEVEL_RANK,
    SIGNIFICANCE_BY_TYPE,
    SIGNIFICANCES,
    Claim,
    EvidenceItem,
    EvidenceLevel,
    Figure,
    Gene,
    Interaction,
    Mechanism,
    NonDnaMarker,
    Panel,
    Publication,
    Rule,
    Setting,
    Source,
    Strategy,
)

_CHANGE = re.compile(r"^([A-Z])(\d+)([A-Z*])$")
_CODON = re.compile(r"^([A-Z])(\d+)$")


def _fail(entry: Entry, section: str, field: str, message: str) -> PanelError:
    ident = entry.data.get(ID_KEY[section], "?")
    where = f"{section}[{entry.index}]" + (f".{field}" if field else "")
    return PanelError(f"entry {ident!r}: {message}", path=entry.file, where=where)


class _Builder:
    def __init__(self, raw: RawPanel) -> None:
        self.raw = raw
        self.entries = {s: raw.sections.get(s, []) for s in LIST_SECTIONS}
        self.levels = tuple(
            EvidenceLevel(
                d["level"], d["label"], " ".join(d["description"].split()),
                axis=d.get("axis", "any"), tier=d.get("tier", 0), oncokb=d.get("oncokb"),
                amp_asco_cap=d.get("amp_asco_cap"), civic=d.get("civic"),
            )
            for d in raw.meta["evidence_levels"]
        )
        self.level_names = [lv.level for lv in self.levels]
        self.sources: dict[str, Source] = {}
        self.evidence: dict[str, EvidenceItem] = {}
        self.genes: dict[str, Gene] = {}
        self.mechanisms: dict[str, Mechanism] = {}
        self.strategies: dict[str, Strategy] = {}
        self.therapy_classes: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {}

    # -- helpers ---------------------------------------------------------------
    def unique(self, section: str) -> None:
        seen: dict[str, Entry] = {}
        for e in self.entries[section]:
            ident = str(e.data[ID_KEY[section]])
            if ident in seen:
                raise _fail(e, section, ID_KEY[section], f"duplicate {ID_KEY[section]}")
            seen[ident] = e

    def level(self, entry: Entry, section: str, field: str, value: str) -> str:
        if value not in self.level_names:
            raise _fail(
                entry,
                section,
                field,
                f"evidence level {value!r} is not on the panel scale "
                f"({', '.join(self.level_names)})",
            )
        return value

    def cite(self, entry: Entry, section: str, field: str, refs: Iterable[JsonObject]) -> tuple[str, ...]:
        out = []
        for i, ref in enumerate(refs):
            src = self.sources.get(ref["source"])
            if src is None:
                raise _fail(
                    entry, section, f"{field}[{i}].source", f"unknown source {ref['source']!r}"
                )
            for r in ref["refs"]:
                if r not in src.references:
                    raise _fail(
                        entry, section, f"{field}[{i}].refs", f"{src.id} has no reference {r!r}"
                    )
            out.append(_citation(src, ref["refs"]))
        return tuple(out)

    def claims(self, entry: Entry, section: str, d: JsonObject) -> tuple[Claim, ...]:
        """Explicit claims, else one per drug class at the mechanism's level and effect."""
        if "claims" in d:
            return tuple(
                Claim(
                    c["effect"], c["drug_class"],
                    self.level(entry, section, f"claims[{i}].level", c["level"]), c.get("note"),
                )
                for i, c in enumerate(d["claims"])
            )
        if section != "mechanisms":
            return ()
        effect = "sensitivity" if d.get("effect") == "actionable" else "resistance"
        if d.get("effect") == "context":
            return ()
        return tuple(Claim(effect, dc, d["evidence_level"]) for dc in d["drug_classes"])

    def settings(
        self, entry: Entry, section: str, field: str, items: list[JsonObject]
    ) -> tuple[Setting, ...]:
        out = []
        for i, d in enumerate(items):
            requires = list(d.get("requires_prior", []))
            excludes = list(d.get("excludes_prior", []))
            cdk = d.get("prior_cdk46", "any")
            if cdk == "yes" and "CDK4/6 inhibitor" not in requires:
                requires.append("CDK4/6 inhibitor")
            if cdk == "no" and "CDK4/6 inhibitor" not in excludes:
                excludes.append("CDK4/6 inhibitor")
            for cls in requires + excludes:
                if self.therapy_classes and cls not in self.therapy_classes:
                    raise _fail(entry, section, f"{field}[{i}]", f"unknown drug class {cls!r}")
            if ";" in d["label"]:
                raise _fail(entry, section, f"{field}[{i}].label",
                            "a setting label may not hold ';' (the TSV joins strategies with '; ')")
            out.append(
                Setting(
                    label=" ".join(d["label"].split()),
                    evidence_level=self.level(
                        entry, section, f"{field}[{i}].evidence_level", d["evidence_level"]
                    ),
                    line=d.get("line"),
                    prior_cdk46=cdk,
                    endocrine_partner=d.get("endocrine_partner"),
                    requires_prior=tuple(requires),
                    excludes_prior=tuple(excludes),
                    evidence=tuple(e.id for e in self.evidence_items(entry, section, d.get("evidence", []))),
                )
            )
        return tuple(out)

    def evidence_items(
        self, entry: Entry, section: str, ids: Iterable[str]
    ) -> tuple[EvidenceItem, ...]:
        items = []
        for ident in ids:
            if ident not in self.evidence:
                raise _fail(entry, section, "evidence", f"unknown evidence item {ident!r}")
            items.append(self.evidence[ident])
        return tuple(items)

    # -- sections --------------------------------------------------------------
    def build_sources(self) -> None:
        self.unique("sources")
        for e in self.entries["sources"]:
            d = e.data
            self.sources[d["id"]] = Source(
                id=d["id"],
                title=d["title"],
                file=d.get("file"),
                sha256=d.get("sha256"),
                references=MappingProxyType(dict(d["references"])),
                citation_style=d.get("citation_style", "numbered"),
            )

    def build_evidence(self) -> None:
        self.unique("evidence")
        for e in self.entries["evidence"]:
            d = e.data
            src = self.sources.get(d["source"])
            if src is None:
                raise _fail(e, "evidence", "source", f"unknown source {d['source']!r}")
            for r in d["refs"]:
                if r not in src.references:
                    raise _fail(e, "evidence", "refs", f"{src.id} has no reference {r!r}")
            figures = tuple(
                Figure(f["measure"], f["text"]) if isinstance(f, dict) else Figure("", f)
                for f in d["figures"]
            )
            self.evidence[d["id"]] = EvidenceItem(
                id=d["id"],
                study=d["study"],
                identifier=d.get("identifier"),
                phase=None if d.get("phase") is None else str(d["phase"]),
                population=d["population"],
                endpoint=d["endpoint"],
                figures=tuple(f.text for f in figures),
                source=src.id,
                reference=_citation(src, d["refs"]),
                note=d.get("note"),
                refs=tuple(d["refs"]),
                intervention=d.get("intervention"),
                labelled_figures=figures,
                publications=tuple(
                    Publication(
                        citation=p["citation"], year=p.get("year"), journal=p.get("journal"),
                        pmid=p.get("pmid"), doi=p.get("doi"), url=p.get("url"),
                    )
                    for p in d.get("publications", [])
                ),
                beyond_seeds=d.get("beyond_seeds", False),
            )
            if d.get("beyond_seeds") and not d.get("publications"):
                raise _fail(e, "evidence", "publications",
                            "knowledge beyond the seeds needs a primary citation (publications)")

    def build_genes(self) -> None:
        self.unique("genes")
        for e in self.entries["genes"]:
            d = e.data
            self.genes[d["symbol"]] = Gene(
                symbol=d["symbol"],
                role=d["role"],
                core=d["core"],
                uniprot=d.get("uniprot"),
                polyclonal_flag=d.get("polyclonal_flag", False),
                why=d.get("why"),
            )

    def build_mechanisms(self) -> None:
        self.unique("mechanisms")
        for e in self.entries["mechanisms"]:
            d = e.data
            self.mechanisms[d["id"]] = Mechanism(
                id=d["id"],
                name=d["name"],
                category=d["category"],
                pathway=d["pathway"],
                description=" ".join(d["description"].split()),
                drug_classes=tuple(d["drug_classes"]),
                sources=self.cite(e, "mechanisms", "sources", d["sources"]),
                effect=d.get("effect", "resistance"),
                evidence_level=self.level(e, "mechanisms", "evidence_level", d["evidence_level"]),
                evidence=self.evidence_items(e, "mechanisms", d.get("evidence", [])),
                claims=self.claims(e, "mechanisms", d),
            )

    def build_strategies(self) -> None:
        self.unique("strategies")
        for e in self.entries["strategies"]:
            d = e.data
            evidence = self.evidence_items(e, "strategies", d["evidence"])
            sources = self.cite(e, "strategies", "sources", d.get("sources", []))
            if not evidence and not sources:
                raise _fail(e, "strategies", "evidence", "needs evidence items or sources")
            for g in d.get("requires_wildtype", []):
                if g not in self.genes:
                    raise _fail(e, "strategies", "requires_wildtype", f"unknown gene {g!r}")
            if ";" in d["name"]:
                raise _fail(e, "strategies", "name",
                            "a strategy name may not hold ';' (the TSV joins strategies with '; ')")
            settings = self.settings(e, "strategies", "settings", d.get("settings", []))
            level = self.level(e, "strategies", "evidence_level", d["evidence_level"])
            if settings and level not in {st.evidence_level for st in settings}:
                raise _fail(e, "strategies", "evidence_level",
                            f"level {level!r} is none of its settings' levels")
            self.strategies[d["id"]] = Strategy(
                id=d["id"],
                name=d["name"],
                approach=" ".join(d["approach"].split()),
                rank=0,
                evidence_level=level,
                evidence=evidence,
                kind=d.get("kind", "treat"),
                sources=sources,
                requires_wildtype=tuple(d.get("requires_wildtype", [])),
                drug_classes=tuple(d.get("drug_classes", [])),
                settings=settings,
            )

    def ranked(self, entry: Entry, section: str, refs: list[str | JsonObject]) -> tuple[Strategy, ...]:
        out: list[Strategy] = []
        for i, ref in enumerate(refs):
            ident = ref if isinstance(ref, str) else ref["id"]
            base = self.strategies.get(ident)
            if base is None:
                raise _fail(entry, section, f"strategies[{i}]", f"unknown strategy {ident!r}")
            if any(s.id == ident for s in out):
                raise _fail(entry, section, f"strategies[{i}]", f"strategy {ident!r} listed twice")
            level, note, settings = base.evidence_level, None, base.settings
            if isinstance(ref, dict):
                if "settings" in ref:
                    settings = self.settings(
                        entry, section, f"strategies[{i}].settings", ref["settings"]
                    )
                    level = settings[0].evidence_level if settings else level
                if "evidence_level" in ref:
                    # the rule's population: every setting takes the rule's level
                    level = self.level(
                        entry, section, f"strategies[{i}].evidence_level", ref["evidence_level"]
                    )
                    settings = tuple(replace(st, evidence_level=level) for st in settings)
                note = ref.get("note")
            out.append(
                replace(base, rank=i + 1, evidence_level=level, note=note, settings=settings)
            )
        return tuple(out)

    def build_rules(self) -> tuple[Rule, ...]:
        self.unique("rules")
        rules = []
        for e in self.entries["rules"]:
            d = e.data
            if d["gene"] not in self.genes:
                raise _fail(e, "rules", "gene", f"unknown gene {d['gene']!r} (not in genes)")
            mech = self.mechanisms.get(d["mechanism"])
            if mech is None:
                raise _fail(e, "rules", "mechanism", f"unknown mechanism {d['mechanism']!r}")
            strategies = self.ranked(e, "rules", d.get("strategies", []))
            if d["type"] == "gene" and strategies:
                raise _fail(e, "rules", "strategies", "gene-level rules must not list strategies")
            changes = tuple((m[1], int(m[2]), m[3]) for m in (_match(_CHANGE, c) for c in d.get("changes", [])))
            codons = tuple((m[1], int(m[2])) for m in (_match(_CODON, c) for c in d.get("codons", [])))
            domain = d.get("domain") or {}
            if domain and domain["start"] > domain["end"]:
                raise _fail(e, "rules", "domain", "start is after end")
            cap = d.get("evidence_level_cap")
            if cap is not None:
                self.level(e, "rules", "evidence_level_cap", cap)
            default_sig = SIGNIFICANCE_BY_TYPE[d["type"]]
            significance = d.get("significance", default_sig)
            if SIGNIFICANCES.index(significance) < SIGNIFICANCES.index(default_sig):
                raise _fail(e, "rules", "significance",
                            f"a {d['type']} match supports at most {default_sig!r} significance")
            rules.append(
                Rule(
                    id=d["id"],
                    gene=d["gene"],
                    type=d["type"],
                    mechanism=mech,
                    strategies=strategies,
                    classes=frozenset(d.get("classes") or DEFAULT_CLASSES[d["type"]]),
                    changes=changes,
                    codons=codons,
                    domain_name=domain.get("name"),
                    domain_start=domain.get("start"),
                    domain_end=domain.get("end"),
                    uniprot=domain.get("uniprot") or self.genes[d["gene"]].uniprot,
                    partners=frozenset(d.get("partners", [])),
                    requires_kinase_domain=d.get("requires_kinase_domain", False),
                    evidence_level_cap=cap,
                    basis=d.get("basis"),
                    note=d.get("note"),
                    significance=significance,
                    claims=self.claims(e, "rules", d),
                )
            )
        return tuple(rules)

    def build_therapy_classes(self) -> None:
        for d in self.raw.meta.get("therapy_classes", []):
            names = tuple(x.lower() for x in [*d["drugs"], *d.get("aliases", [])])
            self.therapy_classes[d["class"]] = (names, tuple(d.get("part_of", [])))
        for cls, (_, parents) in self.therapy_classes.items():
            for p in parents:
                if p not in self.therapy_classes:
                    raise PanelError(
                        f"therapy class {cls!r}: unknown parent class {p!r}",
                        path=self.raw.meta_file, where="panel.therapy_classes",
                    )

    def build_interactions(self) -> tuple[Interaction, ...]:
        self.unique("interactions")
        out = []
        for e in self.entries["interactions"]:
            d = e.data
            for field, known, what in (("mechanisms", self.mechanisms, "mechanism"),
                                       ("genes", self.genes, "gene"),
                                       ("rule_types", MATCH_LEVEL_RANK, "rule type")):
                bad = [x for x in d.get(field, []) if x not in known]
                if bad:
                    raise _fail(e, "interactions", field, f"unknown {what} {bad[0]!r}")
            if self.therapy_classes and d["against_class"] not in self.therapy_classes:
                raise _fail(e, "interactions", "against_class",
                            f"unknown drug class {d['against_class']!r}")
            out.append(
                Interaction(
                    id=d["id"],
                    kind=d["kind"],
                    mechanisms=tuple(d.get("mechanisms", [])),
                    rule_types=tuple(d.get("rule_types", [])),
                    genes=tuple(d.get("genes", [])),
                    against_class=d["against_class"],
                    message=" ".join(d["message"].split()),
                    evidence=self.evidence_items(e, "interactions", d.get("evidence", [])),
                    sources=self.cite(e, "interactions", "sources", d.get("sources", [])),
                )
            )
        return tuple(out)

    def build_markers(self) -> tuple[NonDnaMarker, ...]:
        self.unique("non_dna_markers")
        out = []
        for e in self.entries["non_dna_markers"]:
            d = e.data
            mech = None
            if d.get("mechanism") is not None:
                mech = self.mechanisms.get(d["mechanism"])
                if mech is None:
                    raise _fail(
                        e, "non_dna_markers", "mechanism", f"unknown mechanism {d['mechanism']!r}"
                    )
            out.append(
                NonDnaMarker(
                    id=d["id"],
                    name=d["name"],
                    genes=tuple(d.get("genes", [])),
                    assay=d["assay"],
                    why_not_dna=d["why_not_dna"],
                    mechanism=mech,
                    strategies=self.ranked(e, "non_dna_markers", d.get("strategies", [])),
                    sources=self.cite(e, "non_dna_markers", "sources", d["sources"]),
                    note=d.get("note"),
                )
            )
        return tuple(out)


def _match(pattern: re.Pattern[str], text: str) -> re.Match[str]:
    m = pattern.match(text)
    assert m is not None  # the schema has already checked the shape
    return m


def _citation(src: Source, refs: Iterable[str]) -> str:
    """The seed's citation in full ("seed000: [6] - Wikipedia Palbociclib ..."), never bare keys."""
    refs = list(refs)
    if not refs:
        return f"{src.id} ({src.title}; no reference cited)"
    if src.citation_style == "author_year":
        body = "; ".join(refs)
    else:
        body = "; ".join(f"[{r}] {src.references[r]}" for r in refs)
    return f"{src.id}: {body}"


def build_panel(
    raw: RawPanel, checksum: str, components: tuple[tuple[str, str, str], ...]
) -> Panel:
    if not raw.meta.get("evidence_levels"):
        raise PanelError(
            "the panel defines no evidence_levels scale (to extend the built-in panel, "
            "load it with extend=True / --extend)",
            path=raw.meta_file,
            where="panel.evidence_levels",
        )
    levels = [d["level"] for d in raw.meta["evidence_levels"]]
    if len(set(levels)) != len(levels):
        raise PanelError(
            "evidence levels must be unique", path=raw.meta_file, where="panel.evidence_levels"
        )
    b = _Builder(raw)
    b.build_therapy_classes()
    b.build_sources()
    b.build_evidence()
    b.build_genes()
    b.build_mechanisms()
    b.build_strategies()
    rules = b.build_rules()
    markers = b.build_markers()
    interactions = b.build_interactions()
    by_gene: dict[str, list[Rule]] = {}
    for r in rules:
        by_gene.setdefault(r.gene, []).append(r)
    return Panel(
        name=raw.meta["name"],
        version=raw.meta["version"],
        release_date=raw.meta["release_date"],
        checksum=checksum,
        source_path=raw.source_path,
        description=" ".join(raw.meta["description"].split()),
        genes=MappingProxyType(b.genes),
        mechanisms=MappingProxyType(b.mechanisms),
        strategies=MappingProxyType(b.strategies),
        evidence=MappingProxyType(b.evidence),
        rules=rules,
        non_dna_markers=markers,
        evidence_levels=b.levels,
        sources=MappingProxyType(b.sources),
        components=components,
        rules_by_gene=MappingProxyType({g: tuple(rs) for g, rs in by_gene.items()}),
        interactions=interactions,
        therapy_classes=MappingProxyType(b.therapy_classes),
    )
