"""Key findings of the reproduction and the sentences that state them, read back from the saved tables.

The results and discussion chapters state these numbers in prose; computing them here from the
saved tables (``<output_dir>/tables/*.tsv``) keeps every number in the book traceable to a file
listed on the book's checksum page, and every *claim* — agreement with the planted values,
significance counts, the strength of evidence — chosen by the numbers, not typed.

The modules: :mod:`~helpers.findings.apa_style` (numbers and Bayes factors in words),
:mod:`~helpers.findings.table1_sentences` (Table 1 against the planted values and the paper),
:mod:`~helpers.findings.reliability_sentences` (reliability and attenuation) and
:mod:`~helpers.findings.key_numbers` (the numbers read from the tables).  Everything is imported from
``helpers.findings`` itself.
"""

from ..style import agrees, counted
from .apa_style import apa, apa_p, apa_strings, bf_evidence
from .key_numbers import RELIABILITY_TABLE, TABLES, data_source, key_findings
from .reliability_sentences import attenuation_sentence, attenuation_summary, reliability_paragraph
from .table1_sentences import (
    pipelines_sentence,
    planted_sentence,
    recovery,
    recovery_sentence,
    significance_sentence,
    table1_recovery_sentence,
)

__all__ = [
    "key_findings",
    "apa_strings",
    "TABLES",
    "apa",
    "apa_p",
    "bf_evidence",
    "counted",
    "agrees",
    "recovery",
    "recovery_sentence",
    "table1_recovery_sentence",
    "significance_sentence",
    "attenuation_sentence",
    "attenuation_summary",
    "pipelines_sentence",
    "reliability_paragraph",
    "planted_sentence",
    "data_source",
    "RELIABILITY_TABLE",
]
