-- The warehouse tables (see ../shared/spec/WAREHOUSE.md, the contract).
-- Built from the Parquet tables into a new file on every load, then swapped in atomically.

CREATE TABLE documents (
    doc_id          VARCHAR PRIMARY KEY,
    source_path     VARCHAR NOT NULL,
    content_sha256  VARCHAR NOT NULL,
    title           VARCHAR,
    text            VARCHAR NOT NULL,
    encoding        VARCHAR NOT NULL,
    n_chars         INTEGER NOT NULL,
    n_sentences     INTEGER NOT NULL,
    ingested_at     TIMESTAMP NOT NULL,
    published_at    TIMESTAMP,
    publisher       VARCHAR,
    url             VARCHAR,
    authors         VARCHAR[] NOT NULL,
    section         VARCHAR,
    language        VARCHAR,
    story_id        VARCHAR NOT NULL,
    duplicate_of    VARCHAR
);

CREATE TABLE rejected_files (
    source_path     VARCHAR NOT NULL,
    reason          VARCHAR NOT NULL,
    detected_at     TIMESTAMP NOT NULL
);

CREATE TABLE file_warnings (
    source_path     VARCHAR NOT NULL,
    warning         VARCHAR NOT NULL,
    detected_at     TIMESTAMP NOT NULL
);

CREATE TABLE entities (
    entity_id       VARCHAR PRIMARY KEY,
    name            VARCHAR NOT NULL,
    label           VARCHAR NOT NULL,
    country         VARCHAR,
    n_mentions      BIGINT NOT NULL,
    n_documents     BIGINT NOT NULL
);

CREATE TABLE sentences (
    sentence_id     VARCHAR PRIMARY KEY,
    doc_id          VARCHAR NOT NULL REFERENCES documents (doc_id),
    paragraph_index INTEGER NOT NULL,
    sentence_index  INTEGER NOT NULL,
    char_start      INTEGER NOT NULL,
    char_end        INTEGER NOT NULL,
    text            VARCHAR NOT NULL,
    is_boilerplate  BOOLEAN NOT NULL
);

CREATE TABLE entity_mentions (
    mention_id      VARCHAR PRIMARY KEY,
    doc_id          VARCHAR NOT NULL REFERENCES documents (doc_id),
    sentence_id     VARCHAR NOT NULL REFERENCES sentences (sentence_id),
    entity_id       VARCHAR NOT NULL REFERENCES entities (entity_id),
    text            VARCHAR NOT NULL,
    label           VARCHAR NOT NULL,
    model_label     VARCHAR,
    char_start      INTEGER NOT NULL,
    char_end        INTEGER NOT NULL,
    entity_name     VARCHAR NOT NULL,  -- extension: the canonical name, as entities.name
    country         VARCHAR,           -- extension: this mention's country (places, groups)
    label_source    VARCHAR            -- extension: who decided the label: 'evidence' in the
                                       -- document, the NER 'model' alone, or the 'corpus' (the
                                       -- other documents' verdict on the same name)
);

CREATE TABLE claims (
    claim_id          VARCHAR PRIMARY KEY,
    doc_id            VARCHAR NOT NULL REFERENCES documents (doc_id),
    sentence_id       VARCHAR NOT NULL REFERENCES sentences (sentence_id),
    claim_type        VARCHAR NOT NULL
        CHECK (claim_type IN ('direct_quote', 'indirect_quote', 'partial_quote', 'quantity')),
    text              VARCHAR NOT NULL,
    char_start        INTEGER NOT NULL,
    char_end          INTEGER NOT NULL,
    speaker           VARCHAR,
    speaker_text      VARCHAR,
    speaker_start     INTEGER,
    speaker_end       INTEGER,
    speaker_entity_id VARCHAR REFERENCES entities (entity_id),
    cue               VARCHAR,
    cue_start         INTEGER,
    cue_end           INTEGER,
    outlet            VARCHAR,
    confidence        DOUBLE CHECK (confidence BETWEEN 0 AND 1),
    quote_group_id    VARCHAR,
    in_quote_id       VARCHAR,
    quantity_value    DOUBLE,
    quantity_value_to DOUBLE,
    quantity_unit     VARCHAR,
    quantity_currency VARCHAR,
    quantity_change   VARCHAR
        CHECK (quantity_change IN ('=', '~', '>', '<', 'up', 'down')),
    quantity_concept  VARCHAR,
    quantity_si_value DOUBLE,
    quantity_si_value_to DOUBLE,
    quantity_si_unit  VARCHAR
);

-- When and from what this file was built (written by the loader).
-- Extensions (issue 14): the stories step's corpus-wide decisions, applied to
-- documents.story_id / duplicate_of and claims.quote_group_id at every load.
CREATE TABLE document_stories (
    doc_id          VARCHAR PRIMARY KEY,
    story_id        VARCHAR NOT NULL,
    duplicate_of    VARCHAR
);

CREATE TABLE quote_groups (
    claim_id        VARCHAR PRIMARY KEY,
    quote_group_id  VARCHAR NOT NULL
);

CREATE TABLE load_info (
    key   VARCHAR PRIMARY KEY,
    value VARCHAR NOT NULL
);
