-- Search: BM25 over word stems, as plain SQL macros over index tables the load keeps current
-- (pipelines/core/search.py), so `select * from search_sentences('noose kyiv')` works in any
-- DuckDB client with nothing to load. A query is split into words exactly as the text was
-- (search_words); each word finds its stem's integer id in search_vocabulary (common words such
-- as "the" are not in it, so they match nothing); a search reads only the postings of the
-- query's stems (sorted by stem id, so the scan skips the rest), sums their BM25 weights per
-- row, and joins the text back for the rows found.
-- The index stores counts only (term frequencies, row lengths, document frequencies), never a
-- weight: a load that changes some documents changes their postings and the counts, and the
-- weights follow at query time, equal to what a clean build would give.
-- Word and stem ids are the low 64 bits of their MD5 (search_id): the same in every build, so an
-- incremental load leaves exactly the tables a clean build leaves. (Postings are keyed by the
-- sentence_id / claim_id itself: an integer row id would cost one more join per search.)
-- (The file is run in pieces split at blank-line comments, in order.)
-- The index tables.
CREATE TABLE IF NOT EXISTS search_stop_words (
    word VARCHAR NOT NULL       -- spaCy's English stop words: never indexed
);
CREATE TABLE IF NOT EXISTS search_vocabulary (
    word VARCHAR NOT NULL,      -- as search_words splits it
    stem VARCHAR NOT NULL,      -- Snowball English
    word_id UBIGINT NOT NULL,   -- search_id(word)
    term_id UBIGINT NOT NULL    -- search_id(stem)
);
CREATE TABLE IF NOT EXISTS search_stems (
    term_id UBIGINT NOT NULL,
    stem VARCHAR NOT NULL,
    sentence_df INTEGER NOT NULL,  -- indexed sentences holding a word of this stem
    claim_df INTEGER NOT NULL      -- claims holding one
);
CREATE TABLE IF NOT EXISTS search_sizes (
    name VARCHAR NOT NULL,         -- 'sentence' or 'claim'
    n_rows BIGINT NOT NULL,        -- N of BM25: the rows indexed
    total_dl BIGINT NOT NULL       -- their summed lengths: the mean length is total_dl / n_rows
);
CREATE TABLE IF NOT EXISTS search_sentence_rows (
    sentence_id VARCHAR NOT NULL,
    doc_id VARCHAR NOT NULL,
    text_hash UBIGINT NOT NULL,    -- hash(text): what the next load compares
    dl INTEGER NOT NULL            -- indexed words (stop words aside)
);
CREATE TABLE IF NOT EXISTS search_sentence_postings (
    term_id UBIGINT NOT NULL,
    sentence_id VARCHAR NOT NULL,
    tf INTEGER NOT NULL,           -- times a word of the stem is in the row
    dl INTEGER NOT NULL,           -- the row's length, beside it so a search needs no join
    word_ids UBIGINT[] NOT NULL    -- which words: what a load checks before dropping a word
);
CREATE TABLE IF NOT EXISTS search_claim_rows (
    claim_id VARCHAR NOT NULL,
    doc_id VARCHAR NOT NULL,
    text_hash UBIGINT NOT NULL,
    dl INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS search_claim_postings (
    term_id UBIGINT NOT NULL,
    claim_id VARCHAR NOT NULL,
    tf INTEGER NOT NULL,
    dl INTEGER NOT NULL,
    word_ids UBIGINT[] NOT NULL
);

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

-- The id of a word, stem or row key: the low 64 bits of its MD5, the same in every build and
-- every DuckDB, so a query can compute a word's id and look it up as an integer.
CREATE OR REPLACE MACRO search_id(t) AS (md5_number(t) >> 64)::UBIGINT;

-- The distinct stems of a query, with their ids and document frequencies. A word of the corpus
-- has its stem in search_vocabulary; another word ("negotiate" when the corpus says
-- "negotiations") takes the longest indexed stem that begins it, of at least 4 letters and
-- missing at most 4 (the Snowball suffixes), so inflections the corpus never used still match:
-- its 4 to 5 possible prefixes are looked up by id, never compared with every stem. Only the
-- first 64 such words are looked up. Every look-up is by integer id (the tables are sorted by
-- it, so a scan reads only the blocks that can hold the query's ids).
CREATE OR REPLACE MACRO search_query_stems(query) AS TABLE
    WITH w AS (
        SELECT word, search_id(word) AS word_id
        FROM (SELECT DISTINCT unnest(search_words(query)) AS word)
        WHERE word <> ''
    ),
    found AS (
        SELECT word_id, term_id FROM search_vocabulary
        WHERE word_id IN (SELECT word_id FROM w)
    ),
    unknown AS (
        SELECT word FROM w
        WHERE length(word) >= 5
          AND word_id NOT IN (SELECT word_id FROM found)
          AND word NOT IN (SELECT word FROM search_stop_words)
        ORDER BY word
        LIMIT 64
    ),
    prefixes AS (
        SELECT word, n, search_id(left(word, n::BIGINT)) AS term_id
        FROM (
            SELECT word, unnest(range(greatest(4, length(word) - 4), length(word) + 1)) AS n
            FROM unknown
        )
    ),
    guessed AS (
        SELECT arg_max(p.term_id, p.n) AS term_id
        FROM prefixes p
        WHERE p.term_id IN (SELECT term_id FROM search_stems)
        GROUP BY p.word
    )
    SELECT s.term_id, s.stem, s.sentence_df, s.claim_df
    FROM search_stems s
    WHERE s.term_id IN (SELECT term_id FROM found UNION SELECT term_id FROM guessed);

-- BM25 (k1 1.2, b 0.75, Lucene's idf: one formula for both tables, `search_bm25`, `search_idf`)
-- of each indexed sentence (claim) holding a stem of the query, in no order: one posting per stem
-- and row (tf counts every word of the stem), the stems' weights summed per row; N and the mean length are the index's own. No text is read. The
-- weights are summed as integers of 1e-12: a sum of doubles depends on the order the threads
-- add them in (one sentence scored 19.155604826776358 in one run and ...354 in another, so
-- rows tied with it could swap places); integer sums are the same in any order.
CREATE OR REPLACE MACRO search_idf(n, df) AS ln(1 + (n - df + 0.5) / (df + 0.5));
CREATE OR REPLACE MACRO search_bm25(idf, tf, dl, avgdl) AS
    (idf * tf * 2.2 / (tf + 1.2 * (0.25 + 0.75 * dl / avgdl)) * 1e12)::BIGINT;

CREATE OR REPLACE MACRO search_sentence_scores(query) AS TABLE
    SELECT p.sentence_id,
           sum(search_bm25(q.idf, p.tf, p.dl, q.avgdl)) / 1e12 AS score,
           count(*) AS n_matched
    FROM search_sentence_postings p
    JOIN (
        SELECT q.term_id, n.avgdl, search_idf(n.n, q.sentence_df) AS idf
        FROM search_query_stems(query) q,
             (SELECT n_rows AS n, total_dl / n_rows AS avgdl
              FROM search_sizes WHERE name = 'sentence') n
        WHERE q.sentence_df > 0
    ) q USING (term_id)
    GROUP BY p.sentence_id;

CREATE OR REPLACE MACRO search_claim_scores(query) AS TABLE
    SELECT p.claim_id,
           sum(search_bm25(q.idf, p.tf, p.dl, q.avgdl)) / 1e12 AS score,
           count(*) AS n_matched
    FROM search_claim_postings p
    JOIN (
        SELECT q.term_id, n.avgdl, search_idf(n.n, q.claim_df) AS idf
        FROM search_query_stems(query) q,
             (SELECT n_rows AS n, total_dl / n_rows AS avgdl
              FROM search_sizes WHERE name = 'claim') n
        WHERE q.claim_df > 0
    ) q USING (term_id)
    GROUP BY p.claim_id;

-- Every hit, best first, with its text: `search_sentences('noose kyiv')`. The text is joined
-- last, and DuckDB does not push a caller's LIMIT below that join, so the join reads the text of
-- every hit (60,000 rows for "said"); `k := 10` ranks the hits first and joins the text of the
-- best 10 only (the same rows as `... LIMIT 10`, in the same order). The two branches keep the
-- default (k NULL) free of a second sort: a constant k leaves one branch, the other is pruned.
-- (Subqueries, not CTEs used twice: a materialised CTE above the ORDER BY would keep DuckDB
-- from turning ORDER BY ... LIMIT k into a top-k.)
CREATE OR REPLACE MACRO search_sentences(query, k := NULL) AS TABLE
    SELECT h.sentence_id, s.doc_id, h.score, s.text, h.n_matched
    FROM (
        SELECT * FROM search_sentence_scores(query) WHERE k IS NULL
        UNION ALL
        (SELECT * FROM search_sentence_scores(query) WHERE k IS NOT NULL
         ORDER BY score DESC, sentence_id LIMIT k)
    ) h
    JOIN sentences s USING (sentence_id)
    ORDER BY h.score DESC, h.sentence_id;

CREATE OR REPLACE MACRO search_claims(query, k := NULL) AS TABLE
    SELECT h.claim_id, c.doc_id, h.score, c.text, c.claim_type, c.speaker, h.n_matched
    FROM (
        SELECT * FROM search_claim_scores(query) WHERE k IS NULL
        UNION ALL
        (SELECT * FROM search_claim_scores(query) WHERE k IS NOT NULL
         ORDER BY score DESC, claim_id LIMIT k)
    ) h
    JOIN claims c USING (claim_id)
    ORDER BY h.score DESC, h.claim_id;
