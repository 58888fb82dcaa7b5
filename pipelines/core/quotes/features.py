"""What the quote model sees of a proposed attribution: binary features of its parse (the
cue's lemma, tag and dependency, the kind of speaker, the content's length and shape, where
the cue stands, whether it lies inside one of the rules' own proposals)."""

from __future__ import annotations

from collections.abc import Iterable

from spacy.tokens import Doc, Token

from pipelines.core.doc_arrays import sentence_of, text_of, token_index_at
from pipelines.core.entities import Mention
from pipelines.core.lemmas import lemma_of

_TERMINAL = ".?!"
_MARKS = '"“”«»„'


def _bucket(n: int, edges: tuple[int, ...] = (2, 4, 7, 12, 20, 35, 60)) -> str:
    for edge in edges:
        if n <= edge:
            return f"<={edge}"
    return f">{edges[-1]}"


def _token_at(doc: Doc, start: int, end: int) -> Token | None:
    """The root of the tokens over [start, end): most often one whole token (a cue, a pronoun
    speaker), found by bisection in the token offsets, not through a `Span`."""
    i = token_index_at(doc, start)
    if i >= 0:
        token = doc[i]
        if token.idx == start and start + len(token.text) == end:
            return token
    span = doc.char_span(start, end, alignment_mode="expand")
    return span.root if span is not None and len(span) else None


def _speaker_kind(doc: Doc, speaker, mentions: list[Mention]) -> str:
    if speaker is None:
        return "none"
    token = _token_at(doc, speaker.start, speaker.end)
    if token is not None and token.pos_ == "PRON":
        return "pron_resolved" if speaker.name else "pron_unresolved"
    for m in mentions:
        if (
            m.char_start <= speaker.start < m.char_end
            or speaker.start <= m.char_start < speaker.end
        ):
            return f"named_{m.label}"
    if token is not None:
        return f"noun_{lemma_of(token).lower()}"
    return "other"


def group_features(
    doc: Doc, quotes: list, mentions: list[Mention], ruled: Iterable[tuple[int, int]] = ()
) -> list[str]:
    """Binary features of one attribution (the quote pieces that share a cue), from the parse;
    `ruled` are the spans of the rules' own proposals (not the model-only ones). Nothing here
    looks at any gold: only the text, its parse and what the rules decided."""
    text = text_of(doc)
    first = quotes[0]
    start = min(q.start for q in quotes)
    end = max(q.end for q in quotes)
    content = text[start:end]
    kind = "direct" if any(q.claim_type == "direct_quote" for q in quotes) else "indirect"
    origin = first.origin or "rule"
    f = [f"kind={kind}", f"origin={origin}", f"pieces={_bucket(len(quotes), (1, 2, 3))}"]
    family = origin.split("_")[0]
    f.append(f"family={family}")
    for s, e in ruled:
        if (s, e) == (start, end):
            continue
        if s <= start and end <= e:
            f.append("inside_ruled")
        elif start <= s and e <= end:
            f.append("holds_ruled")
        elif s < end and start < e:
            f.append("crosses_ruled")
    words = len(content.split())
    f.append(f"words={_bucket(words)}")
    f.append(f"origin_words={origin}|{_bucket(words)}")
    opening = content[:1]
    shape = "upper" if opening.isupper() else "lower" if opening.islower() else "other"
    f.append(f"first_char={shape}")
    f.append(f"ends={'terminal' if content.rstrip(_MARKS)[-1:] in _TERMINAL else 'open'}")
    if kind == "indirect" and any(c in content for c in _MARKS):
        f.append("indirect_has_marks")
    if "\n" in content:
        f.append("crosses_paragraph")
    opener = content.split(maxsplit=1)[0].lower().strip(_MARKS) if content.split() else ""
    if opener in ("that", "to", "if", "whether", "how", "why", "what"):
        f.append(f"opener={opener}")
    speaker = first.speaker
    skind = _speaker_kind(doc, speaker, mentions)
    f.append(f"speaker={skind}")
    f.append(f"speaker_class={skind.split('_')[0]}")
    f.append(f"origin_speaker={origin}|{skind.split('_')[0]}")
    if speaker is not None and speaker.entity_id:
        f.append("speaker_linked")
    if first.outlet:
        f.append("outlet")
    if first.cue_start is None:
        f.append("cue=none")
        f.append(f"kind_nocue={kind}")
        return f
    cue = _token_at(doc, first.cue_start, first.cue_end)
    if cue is None:
        return [*f, "cue=unaligned"]
    lemma = lemma_of(cue).lower()
    f += [
        f"cue={lemma}",
        f"cue_kind={kind}|{lemma}",
        f"cue_origin={origin}|{lemma}",
        f"cue_family={family}|{lemma}",
        f"cue_tag={cue.tag_}",
        f"cue_dep={cue.dep_}",
        f"cue_pos={cue.pos_}",
    ]
    if any(c.dep_ == "neg" for c in cue.children):
        f.append("cue_negated")
    modal = [c.lower_ for c in cue.children if c.dep_ == "aux" and c.tag_ == "MD"]
    if modal:
        f.append("cue_modal")
    if any(c.dep_ == "auxpass" for c in cue.children):
        f.append("cue_passive")
    position = "before" if cue.idx < start else "after" if cue.idx >= end else "inside"
    f.append(f"cue_position={position}")
    f.append(f"cue_position_kind={kind}|{position}")
    gap = start - (cue.idx + len(cue.text)) if position == "before" else cue.idx - end
    f.append(f"cue_gap={_bucket(max(gap, 0), (1, 3, 10, 30, 80))}")
    if speaker is not None:
        side = "before" if speaker.start < cue.idx else "after"
        f.append(f"speaker_side={side}")
        f.append(f"speaker_side_position={side}|{position}")
    sentence = doc[slice(*sentence_of(cue))]
    if sentence.start_char > start or sentence.end_char < end:
        f.append("content_leaves_cue_sentence")
    return f
