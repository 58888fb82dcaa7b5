"""How often a quote whose speaker is a named person links to that person's entity.

python scripts/speaker_links.py WAREHOUSE.duckdb

A quote's speaker is a named person when its speaker mention overlaps a PERSON mention of the
same document, or when it is a pronoun resolved to a name that a PERSON entity of the corpus
bears. The rate is the share of those quotes (direct and reported) with a `speaker_entity_id`.
"""

from __future__ import annotations

import sys

import duckdb

QUERY = """
with quotes as (
    select claim_id, doc_id, speaker, speaker_text, speaker_start, speaker_end, speaker_entity_id
    from claims
    where claim_type in ('direct_quote', 'indirect_quote') and speaker_start is not null
),
person_mention as (
    select distinct q.claim_id
    from quotes q join entity_mentions m
      on m.doc_id = q.doc_id and m.label = 'PERSON'
     and m.char_start < q.speaker_end and q.speaker_start < m.char_end
),
person_pronoun as (
    select distinct q.claim_id
    from quotes q join entities e on e.label = 'PERSON' and e.name = q.speaker
    where lower(q.speaker_text) in ('he', 'she', 'him', 'her', 'his')
),
named as (select claim_id from person_mention union select claim_id from person_pronoun)
select count(*) as quotes,
       count(q.speaker_entity_id) as linked,
       round(count(q.speaker_entity_id) / count(*), 4) as rate
from named join quotes q using (claim_id)
"""


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    con = duckdb.connect(sys.argv[1], read_only=True)
    quotes, linked, rate = con.execute(QUERY).fetchone()
    print(f"quotes with a named-person speaker {quotes}, linked {linked}, rate {rate}")


if __name__ == "__main__":
    main()
