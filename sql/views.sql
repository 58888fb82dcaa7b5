-- Analytical views over the warehouse tables.

-- Entities ranked by how often they are mentioned: an index of the corpus.
-- n_stories counts a story run by several outlets once (documents.story_id).
CREATE VIEW top_entities AS
SELECT entity_id, name, label, country, n_mentions, n_documents,
       coalesce(s.n_stories, 0) AS n_stories,
       rank() OVER (ORDER BY n_mentions DESC) AS mention_rank
FROM entities
LEFT JOIN (
    SELECT m.entity_id, count(DISTINCT d.story_id) AS n_stories
    FROM entity_mentions m JOIN documents d USING (doc_id)
    GROUP BY m.entity_id
) s USING (entity_id)
ORDER BY n_mentions DESC, n_documents DESC, name;

-- Every quote with its speaker, cue, outlet and where it was said.
CREATE VIEW quotes AS
SELECT c.claim_id, c.doc_id, d.title, d.source_path, c.claim_type, c.text AS quote,
       c.speaker, c.speaker_text, c.speaker_entity_id, c.cue, c.outlet, s.text AS sentence
FROM claims c
JOIN documents d USING (doc_id)
JOIN sentences s USING (sentence_id)
WHERE c.claim_type IN ('direct_quote', 'indirect_quote', 'partial_quote');

-- Who is quoted, how often, in how many documents, and how many figures their quotes hold.
CREATE VIEW quotes_by_speaker AS
WITH figures AS (
    SELECT in_quote_id AS claim_id, count(*) AS n_quantities
    FROM claims
    WHERE claim_type = 'quantity' AND in_quote_id IS NOT NULL
    GROUP BY 1
)
SELECT coalesce(q.speaker, '(unknown)') AS speaker,
       any_value(q.speaker_entity_id) AS speaker_entity_id,
       count(*) FILTER (WHERE q.claim_type = 'direct_quote') AS n_direct,
       count(*) FILTER (WHERE q.claim_type = 'indirect_quote') AS n_indirect,
       count(*) AS n_quotes,
       count(DISTINCT q.doc_id) AS n_documents,
       coalesce(sum(f.n_quantities), 0)::BIGINT AS n_quantities
FROM claims q
LEFT JOIN figures f USING (claim_id)
WHERE q.claim_type IN ('direct_quote', 'indirect_quote')
GROUP BY 1
ORDER BY n_quotes DESC, speaker;

-- Every quantity inside a quote, with who said it (the quote's speaker, NULL when the quote's
-- speaker was not found: "inside a quote, no speaker found", not the writer's) and where.
CREATE VIEW attributed_quantities AS
SELECT n.claim_id, n.text, n.quantity_value, n.quantity_value_to, n.quantity_unit,
       n.quantity_change, q.speaker, q.speaker_entity_id, q.outlet AS quote_outlet, n.doc_id,
       d.published_at, d.publisher, n.in_quote_id, q.claim_type AS quote_type,
       q.text AS quote
FROM claims n
JOIN claims q ON q.claim_id = n.in_quote_id
JOIN documents d ON d.doc_id = n.doc_id
WHERE n.claim_type = 'quantity';

-- Claims per document, by type.
CREATE VIEW claims_per_document AS
SELECT d.doc_id, d.source_path, d.title,
       count(c.claim_id) AS n_claims,
       count(*) FILTER (WHERE c.claim_type = 'direct_quote') AS n_direct_quotes,
       count(*) FILTER (WHERE c.claim_type = 'indirect_quote') AS n_indirect_quotes,
       count(*) FILTER (WHERE c.claim_type = 'partial_quote') AS n_partial_quotes,
       count(*) FILTER (WHERE c.claim_type = 'quantity') AS n_quantities
FROM documents d
LEFT JOIN claims c USING (doc_id)
GROUP BY ALL
ORDER BY n_claims DESC, d.source_path;

-- Quantities with their value and unit, and the sentence that states them.
CREATE VIEW quantities AS
SELECT c.claim_id, c.doc_id, c.text, c.quantity_value, c.quantity_unit, s.text AS sentence
FROM claims c
JOIN sentences s USING (sentence_id)
WHERE c.claim_type = 'quantity';

-- Pairs of entities named in the same sentence, and how often.
CREATE VIEW entity_cooccurrence AS
WITH pairs AS (
    SELECT DISTINCT a.sentence_id, a.entity_id AS entity_a, b.entity_id AS entity_b
    FROM entity_mentions a
    JOIN entity_mentions b ON a.sentence_id = b.sentence_id AND a.entity_id < b.entity_id
)
SELECT p.entity_a, ea.name AS name_a, ea.label AS label_a,
       p.entity_b, eb.name AS name_b, eb.label AS label_b,
       count(*) AS n_sentences
FROM pairs p
JOIN entities ea ON ea.entity_id = p.entity_a
JOIN entities eb ON eb.entity_id = p.entity_b
GROUP BY ALL
ORDER BY n_sentences DESC, name_a, name_b;

-- The same quote in more than one story (claims.quote_group_id): who said it, how widely it ran,
-- and where it was first published (earliest published_at, then first by source_path). The
-- text is the longest form and the speaker the one named most often, each tie broken by the
-- text itself, so the view gives one answer whatever order the rows are read in.
CREATE VIEW shared_quotes AS
WITH q AS (
    SELECT c.quote_group_id, c.text, c.speaker, c.doc_id, d.story_id, d.publisher,
           d.published_at, d.source_path, c.char_start
    FROM claims c
    JOIN documents d USING (doc_id)
    WHERE c.quote_group_id IS NOT NULL
),
speakers AS (
    SELECT quote_group_id, arg_min(speaker, (-n, speaker)) AS speaker
    FROM (
        SELECT quote_group_id, speaker, count(*) AS n
        FROM q
        WHERE speaker IS NOT NULL
        GROUP BY ALL
    )
    GROUP BY quote_group_id
)
SELECT quote_group_id,
       arg_min(text, (-length(text), text)) AS text,
       any_value(s.speaker) AS speaker,
       count(DISTINCT doc_id) AS n_documents,
       count(DISTINCT story_id) AS n_stories,
       count(DISTINCT publisher) AS n_publishers,
       min(published_at) AS first_published_at,
       arg_min(doc_id, (published_at IS NULL, published_at, source_path, char_start))
           AS first_doc_id
FROM q
LEFT JOIN speakers s USING (quote_group_id)
GROUP BY quote_group_id
HAVING count(DISTINCT story_id) > 1
ORDER BY n_stories DESC, n_documents DESC, first_published_at NULLS LAST, quote_group_id;

-- Each entity's coverage per publication day (UTC), for articles with a date: mentions,
-- articles, and stories (copies of one story count once).
CREATE VIEW entity_mentions_daily AS
SELECT CAST(d.published_at AS DATE) AS day, m.entity_id, e.name, e.label,
       count(*) AS n_mentions,
       count(DISTINCT m.doc_id) AS n_documents,
       count(DISTINCT coalesce(d.story_id, d.doc_id)) AS n_stories
FROM entity_mentions m
JOIN documents d USING (doc_id)
JOIN entities e USING (entity_id)
WHERE d.published_at IS NOT NULL
GROUP BY ALL
ORDER BY day, n_mentions DESC, e.name;

-- Who each outlet quotes (direct, indirect and partial quotes), how often, first and last time
-- (publisher NULL: articles whose outlet is unknown).
CREATE VIEW quotes_by_publisher AS
SELECT d.publisher, c.speaker, any_value(c.speaker_entity_id) AS speaker_entity_id,
       count(*) AS n_quotes,
       min(d.published_at) AS first_published_at,
       max(d.published_at) AS last_published_at
FROM claims c
JOIN documents d USING (doc_id)
WHERE c.claim_type IN ('direct_quote', 'indirect_quote', 'partial_quote')
GROUP BY d.publisher, c.speaker
ORDER BY d.publisher NULLS LAST, n_quotes DESC, c.speaker NULLS LAST;
