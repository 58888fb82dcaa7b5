-- Search: BM25 over word stems, as plain SQL macros over the index tables the load builds
-- (pipelines/core/search.py), so `select * from search_sentences('noose kyiv')` works in any
-- DuckDB client with nothing to load. A query is split into words exactly as the text was
-- (search_words); each word finds its stem in search_vocabulary (common words such as "the" are
-- not in it, so they match nothing); each stem's BM25 weight in each sentence or claim is
-- precomputed, so a search is one join and one sum.
-- (The file is run in pieces split at blank-line comments: search_words first.)
-- Lower case, accents and apostrophes dropped ("Blair’s" is "blairs"), split at whitespace and
-- punctuation (translate and string_split: a regular expression with Unicode classes costs tens
-- of milliseconds to compile in every query). Empty strings in the list match nothing.
CREATE OR REPLACE MACRO search_words(t) AS
    string_split(
        translate(
            translate(strip_accents(lower(t)), '''’`ʼ', ''),
            '!"#$%&()*+,-./:;<=>?@[\]^_{|}~“”‘«»„‹›—–‒―…·•£€¥¢§¶©®°±×÷'
                || chr(9) || chr(10) || chr(13) || chr(160) || chr(8201) || chr(8202) || chr(8239),
            repeat(' ', 64)),
        ' ');

-- The distinct stems of a query. A word of the corpus has its stem in search_vocabulary; another
-- word ("negotiate" when the corpus says "negotiations") takes the longest indexed stem that
-- begins it, of at least 4 letters and missing at most 4 (the Snowball suffixes), so inflections
-- the corpus never used still match. Only the first 64 such words are looked up.
CREATE OR REPLACE MACRO search_query_stems(query) AS TABLE
    WITH w AS (SELECT DISTINCT unnest(search_words(query)) AS word),
    -- (semi joins, so that the query's few words are what is hashed, not the vocabulary)
    found AS (SELECT word, stem FROM search_vocabulary WHERE word IN (SELECT word FROM w)),
    known AS (SELECT stem FROM found),
    unknown AS (
        SELECT word FROM w
        WHERE length(word) >= 5
          AND word NOT IN (SELECT word FROM found)
          AND word NOT IN (SELECT word FROM search_stop_words)
        ORDER BY word
        LIMIT 64
    ),
    guessed AS (
        SELECT arg_max(s.stem, length(s.stem)) AS stem
        FROM unknown u
        JOIN search_stems s
          ON starts_with(u.word, s.stem) AND length(s.stem) >= greatest(4, length(u.word) - 4)
        GROUP BY u.word
    )
    SELECT stem FROM known
    UNION
    SELECT stem FROM guessed;

CREATE OR REPLACE MACRO search_sentences(query) AS TABLE
    WITH hits AS (
        SELECT t.sentence_id, sum(t.weight) AS score, count(*) AS n_matched
        FROM search_sentence_terms t
        WHERE t.stem IN (SELECT stem FROM search_query_stems(query))
        GROUP BY t.sentence_id
    )
    SELECT h.sentence_id, s.doc_id, h.score, s.text, h.n_matched
    FROM hits h
    JOIN sentences s USING (sentence_id)
    ORDER BY h.score DESC, h.sentence_id;

CREATE OR REPLACE MACRO search_claims(query) AS TABLE
    WITH hits AS (
        SELECT t.claim_id, sum(t.weight) AS score, count(*) AS n_matched
        FROM search_claim_terms t
        WHERE t.stem IN (SELECT stem FROM search_query_stems(query))
        GROUP BY t.claim_id
    )
    SELECT h.claim_id, c.doc_id, h.score, c.text, c.claim_type, c.speaker, h.n_matched
    FROM hits h
    JOIN claims c USING (claim_id)
    ORDER BY h.score DESC, h.claim_id;
