"""Quotes and reported speech with their cue, speaker and outlet.

Direct quotes come from quote marks paired per paragraph (`marks`), robust to what real text
does: curly and straight marks mixed, a missing space before the opening mark, an unclosed mark,
and a quote running over several paragraphs. Cues come from a lexicon of reporting verbs around
the quote (`cues`); the speaker is the cue's subject, also "said X" inversion and "according to
X" (`speakers`); a pronoun speaker is resolved to the nearest fitting person or description
before it (`pronouns`); a quote with no cue in its paragraph inherits the speaker of the quote
before it. Reported speech is a reporting verb with a clausal complement in the parse, a noun or
adjective holding a clause, a colon after a name, or a quoted phrase framed by a verb whose
subject can speak (`reported`). Short quoted phrases inside a sentence without a cue are scare
quotes (`partial_quote`), not speech. The rules propose; the quote model (`model`, trained on
PolNeAR train) scores every proposal, gives it a confidence and drops the unlikely ones
(`extract`).
"""

from pipelines.core.quotes.base import Quote, QuoteSpan, Speaker
from pipelines.core.quotes.extract import extract_quotes, propose_quotes, quote_groups
from pipelines.core.quotes.features import group_features
from pipelines.core.quotes.marks import find_quote_spans
from pipelines.core.quotes.model import QuoteModel, load_model

__all__ = [
    "Quote",
    "QuoteModel",
    "QuoteSpan",
    "Speaker",
    "extract_quotes",
    "find_quote_spans",
    "group_features",
    "load_model",
    "propose_quotes",
    "quote_groups",
]
