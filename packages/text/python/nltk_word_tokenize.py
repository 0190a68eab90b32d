"""Reference tokenizer for tests and benchmarks: NLTK's word_tokenize as NLTK 3.8.1 (or 3.10.3) behaves.

Reads {"punkt": <path to punkt JSON>, "texts": [...], "version": "3.8.1"|"3.10.3"} as JSON on
stdin and writes {"tokens": [[...], ...], "seconds": <wall time>, "cpu_seconds": <CPU time>} on stdout. The Punkt tokenizer is
built from the JSON parameters because NLTK's own data packages cannot be downloaded here.
"""
import json
import re
import sys
import time

from nltk.tokenize.destructive import NLTKWordTokenizer
from nltk.tokenize.punkt import PunktParameters, PunktSentenceTokenizer


def as_nltk_3_8_1(word_tokenizer):
    """Undo the three NLTKWordTokenizer changes made after NLTK 3.8.1 (installed here: 3.10.3)."""
    quote_rule = (re.compile(r"(?i)(\')(?!re|ve|ll|m|t|s|d|n)(\w)\b", re.U), r"\1 \2")
    word_tokenizer.STARTING_QUOTES = list(word_tokenizer.STARTING_QUOTES[:-1]) + [quote_rule]
    # NLTK PR #3461 (2025) padded dashes U+2012-U+2015.
    word_tokenizer.PUNCTUATION = [r for r in word_tokenizer.PUNCTUATION if r[0].pattern != r"[\u2012-\u2015]"]
    # NLTK PR #3224 (3.9) normalised whitespace before the contraction rules.
    word_tokenizer.ENDING_QUOTES = [r for r in word_tokenizer.ENDING_QUOTES if r[0].pattern != r"\s+"]
    return word_tokenizer


def build(punkt_path, version):
    with open(punkt_path, encoding="utf-8") as f:
        raw = json.load(f)
    params = PunktParameters()
    params.abbrev_types = set(raw["abbrev_types"])
    params.collocations = {tuple(pair) for pair in raw["collocations"]}
    params.sent_starters = set(raw["sent_starters"])
    for word, flags in raw["ortho_context"].items():
        params.ortho_context[word] = flags
    word_tokenizer = NLTKWordTokenizer()
    if version == "3.8.1":
        word_tokenizer = as_nltk_3_8_1(word_tokenizer)
    elif version != "3.10.3":
        raise ValueError(f"unknown NLTK version {version!r}")
    return PunktSentenceTokenizer(params), word_tokenizer


def main():
    request = json.load(sys.stdin)
    sentences, words = build(request["punkt"], request.get("version", "3.8.1"))
    if request.get("version", "3.8.1") == "3.8.1":
        # Guard: the patch must have found all three rules (a different NLTK would silently differ).
        assert len(words.PUNCTUATION) == len(NLTKWordTokenizer.PUNCTUATION) - 1
        assert len(words.ENDING_QUOTES) == len(NLTKWordTokenizer.ENDING_QUOTES) - 1
    start, cpu_start = time.perf_counter(), time.process_time()
    tokens = [[t for s in sentences.tokenize(text) for t in words.tokenize(s)] for text in request["texts"]]
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    json.dump({"tokens": tokens, "seconds": seconds, "cpu_seconds": cpu_seconds}, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
