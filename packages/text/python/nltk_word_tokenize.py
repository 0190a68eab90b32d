"""Reference tokenizer for tests and benchmarks: NLTK's word_tokenize as NLTK 3.8.1 behaves.

Reads {"punkt": <path to punkt JSON>, "texts": [...], "quote_rule": "nltk-3.8.1"|"nltk-3.9"} as JSON on
stdin and writes {"tokens": [[...], ...], "seconds": <wall time>, "cpu_seconds": <CPU time>} on stdout. The Punkt tokenizer is
built from the JSON parameters because NLTK's own data packages cannot be downloaded here.
"""
import json
import re
import sys
import time

from nltk.tokenize.destructive import NLTKWordTokenizer
from nltk.tokenize.punkt import PunktParameters, PunktSentenceTokenizer


def build(punkt_path, quote_rule):
    with open(punkt_path, encoding="utf-8") as f:
        raw = json.load(f)
    params = PunktParameters()
    params.abbrev_types = set(raw["abbrev_types"])
    params.collocations = {tuple(pair) for pair in raw["collocations"]}
    params.sent_starters = set(raw["sent_starters"])
    for word, flags in raw["ortho_context"].items():
        params.ortho_context[word] = flags
    word_tokenizer = NLTKWordTokenizer()
    if quote_rule == "nltk-3.8.1":
        # NLTK 3.8.1's last starting-quote rule (changed in 3.9).
        word_tokenizer.STARTING_QUOTES = list(word_tokenizer.STARTING_QUOTES[:-1]) + [
            (re.compile(r"(?i)(\')(?!re|ve|ll|m|t|s|d|n)(\w)\b", re.U), r"\1 \2")
        ]
    return PunktSentenceTokenizer(params), word_tokenizer


def main():
    request = json.load(sys.stdin)
    sentences, words = build(request["punkt"], request.get("quote_rule", "nltk-3.8.1"))
    start, cpu_start = time.perf_counter(), time.process_time()
    tokens = [[t for s in sentences.tokenize(text) for t in words.tokenize(s)] for text in request["texts"]]
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    json.dump({"tokens": tokens, "seconds": seconds, "cpu_seconds": cpu_seconds}, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
