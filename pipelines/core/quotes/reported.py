"""Reported speech: a cue with a clause ("X said (that) …"), a noun or adjective holding a
clause ("Trump's claim that …"), a colon after a name ("PENCE: …"), and quoted phrases framed
by a verb whose subject can speak."""

from __future__ import annotations

import re

from spacy.tokens import Doc, Span, Token

from pipelines.core.doc_arrays import text_of, token_indices
from pipelines.core.entities import Mention
from pipelines.core.lemmas import lemma_of
from pipelines.core.lexicon import (
    EVIDENCE_VERBS,
    INTENT_VERBS,
    LIGHT_VERBS,
    SAYING_NOUNS,
    STANCE_VERBS,
    THOUGHT_VERBS,
)
from pipelines.core.quotes.base import Quote, QuoteSpan, Speaker
from pipelines.core.quotes.cues import _cue_subject, _is_cue
from pipelines.core.quotes.marks import _MARK, _overlaps, _Quoted, _trim, _whole_quotes
from pipelines.core.quotes.pronouns import _Resolver
from pipelines.core.quotes.speakers import (
    _can_give_evidence,
    _can_speak,
    _outlet_for,
    _speaker,
    _subject_of,
)
from pipelines.core.sentences import SentenceIndex

_JUDGING_VERBS = STANCE_VERBS | THOUGHT_VERBS

# Words of its own, outside its quotations, that reported speech needs to be more than the
# quotation it holds ("said the budget was a disaster: “…”", not "said: “…”").
_OWN_WORDS = 4


def _holds_its_quotes(
    text: str, start: int, end: int, cue: int, direct_cues: dict[tuple[int, int], int | None]
) -> bool:
    """Reported speech that holds the direct quotes of its own cue whole, and words of its own
    besides: "X said the budget was a disaster: “Nobody has read it.”" reports the clause and
    the quotation together, so it stands though a quote fills much of it (the scorer merges
    the two by their shared cue)."""
    if start <= cue < end:  # "“…,” they said, reported X.": a content never holds its own cue
        return False
    inside = [(s, e, c) for (s, e), c in direct_cues.items() if s < end and e > start]
    if not inside or any(c != cue or s < start - 1 or e > end + 1 for s, e, c in inside):
        return False
    own = text[start:end]
    for s, e, _c in sorted(inside, reverse=True):
        own = own[: max(0, s - start)] + " " + own[e - start :]
    return sum(any(ch.isalnum() for ch in w) for w in own.split()) >= _OWN_WORDS


def _reported_content(cue: Token) -> list[Token]:
    """The words a reporting verb reports, from the parse (empty when it reports none)."""
    if cue.lower_ == "according":  # "According to X, …" / "…, according to X."
        sentence = list(cue.sent)
        first = sentence.index(cue)
        comma = next((k for k in range(first + 2, len(sentence)) if sentence[k].text == ","), None)
        if first <= 1 and comma is not None:
            return sentence[comma + 1 :]
        before = sentence[:first]
        while before and before[-1].is_punct:
            before = before[:-1]
        return before
    children = {c.dep_: c for c in cue.children}
    if "ccomp" in children:  # "X said (that) …", "… , X said"
        clauses = [c for c in cue.children if c.dep_ == "ccomp"]
        if len(clauses) > 1 and all(c.i > cue.i for c in clauses):
            # "X said A: “B”" parsed as two clauses of one cue: A and B are what X said
            return list(cue.doc[clauses[0].left_edge.i : clauses[-1].right_edge.i + 1])
        return list(children["ccomp"].subtree)
    if cue.dep_ == "parataxis" and cue.head.pos_ in ("VERB", "AUX"):  # "…, X said, …"
        inside = {t.i for t in cue.subtree}
        return [t for t in cue.head.subtree if t.i not in inside]
    lemma = lemma_of(cue)
    if lemma == "call" and "dobj" in children and "oprd" in children:  # call X "Y"
        first, last = children["dobj"], children["oprd"]
        return list(cue.doc[first.left_edge.i : last.right_edge.i + 1])
    if lemma in INTENT_VERBS and "xcomp" in children:  # "vowed to …", "urged X to …"
        first = children.get("dobj", children["xcomp"])
        return list(cue.doc[first.left_edge.i : children["xcomp"].right_edge.i + 1])
    if lemma in ("cite", "call"):  # "cited X", "called for X"
        if lemma == "cite" and "dobj" in children:
            return list(children["dobj"].subtree)
        for child in cue.children:
            if child.dep_ == "prep" and child.lower_ in ("for", "on"):
                return [t for t in child.subtree if t is not child]
    if lemma in STANCE_VERBS and "dobj" in children:  # "endorsed X", "accused X of Y"
        first = children["dobj"]
        last = max(
            [first, *(c for c in cue.rights if c.dep_ == "prep" and c.lower_ in _STANCE_PREPS)],
            key=lambda t: t.i,
        )
        return list(cue.doc[first.left_edge.i : last.right_edge.i + 1])
    return []


_STANCE_PREPS = ("as", "for", "of", "over")


# Words that open an aside after a quoted phrase: "…,” which raised concerns", "…,” though
# voters …", "…,” when asked …", "…,” in an interview".
_ASIDE_OPENERS = frozenset(
    {"which", "who", "when", "while", "though", "although", "as", "after", "before", "in", "on"}
)


_DASHES = frozenset({"—", "–", "-", "--"})


def _aside_after_quote(content: list[Token]) -> int:
    """Where reported content ends when a quoted phrase closes it and the writer's own words
    follow: a participle ("…,” referring to …"), a relative or adverbial clause ("…,” which …",
    "…,” though …") or anything after a dash ("…” — a play on words"). Else its length."""
    text = text_of(content[0].doc) if content else ""
    for k, token in enumerate(content[:-1]):
        if not _MARK.fullmatch(token.text) or text[token.idx - 1 : token.idx].isspace():
            continue  # not a closing mark
        following = content[k + 1 :]
        comma = text[token.idx - 1] == "," or following[0].text == ","
        while following and following[0].is_punct and following[0].text not in _DASHES:
            following = following[1:]
        if not following:
            continue
        first = following[0]
        if first.text in _DASHES and text[first.idx - 1 : first.idx].isspace():
            return k + 1
        participle = first.tag_ in ("VBG", "VBN") and first.dep_ in ("advcl", "acl", "xcomp")
        if comma and (participle or first.lower_ in _ASIDE_OPENERS):
            return k + 1
    return len(content)


def _reported_speech(
    doc: Doc,
    sentences: SentenceIndex,
    quoted: list[tuple[int, int]],
    spans: list[QuoteSpan],
    resolver: _Resolver,
    mentions: list[Mention],
    open_verbs: bool = False,
    direct_cues: dict[tuple[int, int], int | None] | None = None,
) -> list[Quote]:
    """ "X said (that) …", "… , X said", "according to X, …": a cue with a clause. With
    `open_verbs`, also any other verb whose subject can speak, with what stands on its right
    (its clause, object, infinitive or prepositional phrase: "X backed the plan", "X pushed for
    a vote"), and a cue of the lexicon that reports no clause, with its object: proposals for
    the quote model, which alone decides whether such a verb attributes (origin "open_…").
    A clause that a direct quote fills is left to the quote unless it holds the quotes of its
    own cue and words of its own (`direct_cues`: each direct quote's span and cue)."""
    found: list[Quote] = []
    every_quote = _Quoted((s.start, s.end) for s in spans)
    # only a verb, an auxiliary or "according" can be a cue, a stance or an open verb
    for i in token_indices(doc, ("VERB", "AUX"), ("according",)):
        token = doc[i]
        stance = token.pos_ == "VERB" and lemma_of(token) in _JUDGING_VERBS
        lexical = _is_cue(token) or stance
        if not lexical and not (open_verbs and token.pos_ == "VERB"):
            continue
        if sentences.is_boilerplate(token.idx):
            continue
        if token.idx in every_quote:
            continue
        subject = _cue_subject(token)
        if subject is None or subject.lower_ in ("it", "there", "this", "which"):
            continue
        # a verb outside the lexicon proposes only for a subject that can speak: asked first,
        # as most verbs' subjects cannot ("prices rose"), before their content is gathered
        if not lexical and not _can_speak(subject, mentions):
            continue
        origin = "reported"
        content = _reported_content(token) if lexical else []
        if open_verbs and len(content) < 3:
            content, arm = _open_content(token)
            origin = f"open_{arm}" if not lexical else f"open_lexical_{arm}"
        content = sorted(content, key=lambda t: t.i)
        stop = next((k for k, t in enumerate(content) if t.text == ";" and k > 2), len(content))
        stop = min(stop, _aside_after_quote(content))
        content = [t for t in content[:stop] if not t.is_punct or _MARK.fullmatch(t.text)]
        if len(content) < 3:
            continue
        start = content[0].idx
        end = content[-1].idx + len(content[-1].text)
        start, end = _whole_quotes(*_trim(text_of(doc), start, end), spans)
        if _overlaps(start, end, quoted) and not _holds_its_quotes(
            text_of(doc), start, end, token.idx, direct_cues or {}
        ):
            continue
        if lemma_of(token) in EVIDENCE_VERBS and not _can_give_evidence(subject, mentions):
            continue  # "a video shows tanks moving": a sight, not a claim
        if lexical and origin != "reported" and not _can_speak(subject, mentions):
            continue  # a cue of the lexicon with no clause, proposing its object: the same test
        speaker = _speaker(subject, resolver, mentions)
        found.append(
            Quote(
                "indirect_quote",
                start,
                end,
                speaker,
                token.idx,
                token.idx + len(token.text),
                _outlet_for(token, mentions),
                origin,
            )
        )
    return found


# Dependents on a verb's right that can hold what its subject says, backs or wants.
_OPEN_ARMS = ("ccomp", "dobj", "xcomp", "prep", "dative", "oprd", "advcl")


def _open_content(verb: Token) -> tuple[list[Token], str]:
    """What a verb outside the lexicon may attribute: its right-hand dependents from the first
    that can hold content to the last, and the first one's relation ("backed the plan": dobj)."""
    arms = [c for c in verb.rights if c.dep_ in _OPEN_ARMS]
    if not arms:
        return [], "none"
    return list(verb.doc[arms[0].left_edge.i : arms[-1].right_edge.i + 1]), arms[0].dep_


def _clause_span(clause: Token, quoted: list[tuple[int, int]]) -> tuple[int, int] | None:
    """The characters of a reported clause (its punctuation trimmed, quote marks kept), unless
    it is too short to be a claim or a quote already holds it."""
    words = [t for t in clause.subtree if not t.is_punct or _MARK.fullmatch(t.text)]
    start, end = words[0].idx, words[-1].idx + len(words[-1].text)
    if len(words) < 3 or _overlaps(start, end, quoted):
        return None
    return start, end


def _clause_attributions(
    doc: Doc,
    sentences: SentenceIndex,
    quoted: list[tuple[int, int]],
    resolver: _Resolver,
    mentions: list[Mention],
) -> list[Quote]:
    """A clause held by a word that is not a verb of saying, in one pass over the document:
    - "Trump's claim that …", "the governor's assertion that …": a noun of saying with its owner
      and a that-clause, the owner the source and the noun the cue;
    - "The mayor is confident that …", "Republicans are worried (that) …": an adjective with a
      clause of its own states its subject's belief or fear; the adjective is the cue."""
    found: list[Quote] = []
    for i in token_indices(doc, ("NOUN", "ADJ")):
        cue = doc[i]
        if cue.pos_ == "NOUN" and lemma_of(cue).lower() in SAYING_NOUNS:
            source, clause = _owner_and_that_clause(cue)
        elif cue.pos_ == "ADJ" and cue.dep_ == "acomp":
            clause = next((c for c in cue.children if c.dep_ == "ccomp"), None)
            source = _subject_of(cue.head) if clause is not None else None
            if source is not None and source.i > cue.i:
                continue
        else:
            continue
        if source is None or clause is None or sentences.is_boilerplate(cue.idx):
            continue
        if not _can_speak(source, mentions):
            continue
        span = _clause_span(clause, quoted)
        if span is None:
            continue
        speaker = _speaker(source, resolver, mentions)
        found.append(
            Quote(
                "indirect_quote",
                *span,
                speaker,
                cue.idx,
                cue.idx + len(cue.text),
                None,
                f"clause_{cue.pos_.lower()}",
            )
        )
    return found


def _owner_and_that_clause(noun: Token) -> tuple[Token | None, Token | None]:
    """The owner of a noun ("Trump's claim") and the that-clause after it."""
    owner = next((c for c in noun.children if c.dep_ == "poss"), None)
    clause = next(
        (
            c
            for c in noun.children
            if c.dep_ in ("acl", "ccomp")
            and c.i > noun.i
            and any(m.dep_ == "mark" and m.lower_ == "that" for m in c.children)
        ),
        None,
    )
    return owner, clause


_COLON_SOURCE = re.compile(r"[\"“'‘]?((?:[A-Z][\w.’'-]*\s?){1,5}):\s+(?=\S)")


def _colon_attributions(
    doc: Doc, sentences: SentenceIndex, mentions: list[Mention], direct: list[tuple[int, int]]
) -> list[Quote]:
    """Headline and transcript style, "Pat Caddell: Democrat Voters Worried …", "PENCE: Well,
    …": a named source, a colon, then what they said."""
    text = text_of(doc)
    found: list[Quote] = []
    for sentence in sentences:
        if sentence.is_boilerplate:
            continue
        match = _COLON_SOURCE.match(sentence.text)
        if match is None:
            continue
        source_start = sentence.char_start + match.start(1)
        source_end = sentence.char_start + match.end(1)
        source_text = text[source_start:source_end].rstrip()
        source_end = source_start + len(source_text)
        named = [
            m
            for m in mentions
            if m.label in ("PERSON", "ORG", "NORP", "GPE")
            and source_start <= m.char_start
            and m.char_end <= source_end
        ]
        if not named and not (source_text.isupper() and len(source_text) >= 3):
            continue
        start, end = _trim(text, sentence.char_start + match.end(), sentence.char_end)
        if len(text[start:end].split()) < 3 or _overlaps(start, end, direct):
            continue
        colon = text.index(":", source_end)
        mention = named[0] if named else None
        speaker = Speaker(
            mention.entity_name if mention else source_text.title(),
            source_start,
            source_end,
            mention.entity_id if mention else None,
        )
        found.append(Quote("indirect_quote", start, end, speaker, colon, colon + 1, None, "colon"))
    return found


# Words after a quoted phrase that still belong to it: "a “grave threat” to stability",
# "“constant attack” from abroad", "“legal matters” that could …" (not "during …", ", which").
_PHRASE_GOES_ON = frozenset({"of", "to", "from", "for", "against", "about", "with", "that", "who"})


def _framing_verb(phrase: Token, start: int, end: int) -> tuple[Token, Token] | None:
    """The verb a quoted phrase hangs from, outside the quote, and the verb's dependent that
    holds it. Light verbs ("X was “a con”", "has “enormous respect”") say nothing of anyone's
    words, so the search goes on up ("tweeted that X was “a con”")."""
    token = phrase
    for _ in range(8):
        head = token.head
        if head.i == token.i:  # the root
            return None
        inside = start <= head.idx < end
        if not inside and head.pos_ in ("VERB", "AUX") and lemma_of(head) not in LIGHT_VERBS:
            return head, token
        token = head
    return None


def _frames_nothing(verb: Token) -> bool:
    """A verb with no doer of its own that modifies a noun or follows a preposition."""
    if _subject_of(verb) is None:
        return True
    own = any(c.dep_ in ("nsubj", "nsubjpass", "csubj") for c in verb.children)
    return not own and verb.dep_ in ("pcomp", "acl")


def _phrase_end(words: Span) -> int:
    """Where a quoted phrase's words end: at its closing mark, at the noun it modifies
    ("“horrific” scenes"), or past a complement that still belongs to it ("a “grave threat”
    to regional stability")."""
    doc = words.doc
    last = words[-1]
    while last.i + 1 < len(doc) and _MARK.fullmatch(doc[last.i + 1].text):
        last = doc[last.i + 1]  # the closing mark
    root = words.root
    if root.dep_ in ("amod", "compound", "nmod") and root.head.i > last.i:
        last = root.head  # a modifier: "predicted “horrific” scenes"
    after = doc[last.i + 1] if last.i + 1 < len(doc) else None
    if (
        after is not None
        and after.lower_ in _PHRASE_GOES_ON
        and after.head.i in range(words.start, last.i + 1)
    ):
        last = max(last, after.right_edge, key=lambda t: t.i)
    return last.idx + len(last.text)


def _framed_phrases(
    doc: Doc, claims: list[Quote], resolver: _Resolver, mentions: list[Mention]
) -> list[Quote]:
    """ "Reid went after Trump as a “con artist”", "X admires Y as a “strong leader”": a quoted
    phrase that is the object or complement of a verb whose subject can speak reports that
    subject's words, though the verb is no verb of speech. The content is the verb's right-hand
    words up to the end of the quoted phrase ("what she called a “rant”": from the object)."""
    held = [(c.start, c.end) for c in claims if c.claim_type != "partial_quote"]
    cues = {c.cue_start for c in claims if c.cue_start is not None}
    phrases = [(c.start, c.end) for c in claims if c.claim_type == "partial_quote"]
    by_verb: dict[int, tuple[Token, Token, int, int]] = {}
    for claim in claims:
        if claim.claim_type != "partial_quote" or _overlaps(claim.start, claim.end, held):
            continue  # not a phrase, or already inside reported speech
        words = doc.char_span(claim.start, claim.end, alignment_mode="expand")
        framing = _framing_verb(words.root, claim.start, claim.end) if words else None
        while framing is not None and _frames_nothing(framing[0]):
            # a verb without a doer ("the loophole known as the “Cadillac tax”", "grilled X
            # about trying to “debase” …"): the phrase is framed by the next verb up
            framing = _framing_verb(framing[0], claim.start, claim.end)
        if words is None or framing is None:
            continue
        verb, arm = framing
        if verb.idx in cues or arm.i < verb.i:
            continue
        subject = _subject_of(verb)
        if subject is None or subject.i > verb.i or not _can_speak(subject, mentions):
            continue
        right = [c for c in verb.rights if not c.is_punct and c.i <= arm.i]
        first = min(right, key=lambda c: c.left_edge.i) if right else arm
        objects = [c for c in verb.lefts if c.dep_ == "dobj"]  # "what she called a “rant”"
        start = min(t.left_edge.idx for t in [first, *objects])
        arm_end = arm.right_edge.idx + len(arm.right_edge.text)
        # to the end of the phrase, or of a later quoted phrase in the same dependent
        end = max(
            [_phrase_end(words), claim.end]
            + [e for s, e in phrases if claim.end <= s and e <= arm_end]
        )
        if verb.i in by_verb:
            _verb, _subject, known_start, known_end = by_verb[verb.i]
            start, end = min(start, known_start), max(end, known_end)
        by_verb[verb.i] = (verb, subject, start, end)
    found: list[Quote] = []
    text = text_of(doc)
    for verb, subject, start, end in by_verb.values():
        start, end = _trim(text, start, end)
        found.append(
            Quote(
                "indirect_quote",
                start,
                end,
                _speaker(subject, resolver, mentions),
                verb.idx,
                verb.idx + len(verb.text),
                _outlet_for(verb, mentions),
                "framed",
            )
        )
    return found
