"""Flag text lists a few events and counts the rest (issue 13: one 60,000-character line)."""

from __future__ import annotations

from annotator.core.brief import brief_list, brief_message
from annotator.report.context import sample_alerts

KEYS = [f"chr13:{32316461 + i}:A>T" for i in range(1193)]
MESSAGE = (f"BRCA2: {len(KEYS)} inactivating events ({', '.join(KEYS)}) are consistent with "
           "biallelic loss; whether they hit both alleles of one clone or separate subclones "
           "cannot be told from the calls alone.")


def test_brief_list_names_three_and_counts_the_rest():
    assert brief_list(KEYS) == f"{KEYS[0]}, {KEYS[1]}, {KEYS[2]} and 1,190 more"
    assert brief_list(KEYS[:4]) == ", ".join(KEYS[:4])  # "and 1 more" would save nothing
    assert brief_list([]) == ""


def test_brief_message_keeps_the_sentence():
    short = brief_message(MESSAGE)
    assert len(short) < 300
    assert short.startswith("BRCA2: 1193 inactivating events (chr13:32316461:A>T, ")
    assert "and 1,190 more)" in short and short.endswith("from the calls alone.")
    assert brief_message("ESR1: 2 alterations (a, b); compare") == "ESR1: 2 alterations (a, b); compare"


def test_html_alert_for_a_long_flag_is_short():
    doc = {"flags": [{"kind": "biallelic_loss", "gene": "BRCA2", "members": KEYS, "message": MESSAGE}],
           "accounting": {}}
    (alert,) = [a for a in sample_alerts(doc, []) if "BRCA2" in a["title"]]
    assert len(alert["message"]) < 300 and "1,190 more" in alert["message"]


def test_conflict_message_names_a_few_triggers():
    # knowledge.matcher's interaction text: "<triggers> vs <strategies> (offered for <targets>): why"
    triggers = [f"RB1 p.Q{i}*" for i in range(10, 190)]
    targets = [f"PIK3CA p.E{i}K" for i in range(500, 520)]
    message = (f"{', '.join(triggers)} vs Inavolisib + palbociclib + fulvestrant, Capivasertib "
               f"(offered for {', '.join(targets)}): RB1 loss removes the target of CDK4/6 inhibition.")
    short = brief_message(message)
    assert short.startswith("RB1 p.Q10*, RB1 p.Q11*, RB1 p.Q12* and 177 more vs Inavolisib + palbociclib")
    assert "(offered for PIK3CA p.E500K, PIK3CA p.E501K, PIK3CA p.E502K and 17 more)" in short
    assert short.endswith("the target of CDK4/6 inhibition.")
    # a short trigger list and a plain sentence with " vs " stay as they are
    two = "ESR1 p.Y537S, ESR1 p.D538G vs Alpelisib + fulvestrant (offered for PIK3CA p.H1047R): why"
    assert brief_message(two) == two
