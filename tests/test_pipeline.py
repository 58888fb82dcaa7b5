"""One real Dagster materialisation of every asset, and what it leaves behind."""

from __future__ import annotations

import dagster as dg
import duckdb
import polars as pl

from pipelines.core.store import Lake
from pipelines.core.tables import SCHEMAS

CONTRACT_COLUMNS = {
    "documents": "doc_id source_path content_sha256 title text encoding n_chars n_sentences "
    "ingested_at published_at publisher url authors section language story_id duplicate_of",
    "sentences": "sentence_id doc_id paragraph_index sentence_index char_start char_end text "
    "is_boilerplate",
    "entity_mentions": "mention_id doc_id sentence_id entity_id text label model_label "
    "char_start char_end",
    "entities": "entity_id name label country n_mentions n_documents",
    "claims": "claim_id doc_id sentence_id claim_type text char_start char_end speaker "
    "speaker_text speaker_start speaker_end speaker_entity_id cue cue_start cue_end outlet "
    "confidence quote_group_id in_quote_id quantity_value quantity_value_to quantity_unit "
    "quantity_currency quantity_change quantity_concept quantity_si_value quantity_si_value_to "
    "quantity_si_unit",
    "rejected_files": "source_path reason detected_at",
    "file_warnings": "source_path warning detected_at",
}


def test_every_asset_materialised_and_every_check_passed(seed_run):
    result: dg.ExecuteInProcessResult = seed_run["result"]
    materialised = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert {
        "documents",
        "sentences",
        "entity_mentions",
        "entities",
        "claims",
        "warehouse",
        "top_entities",
        "rejected_files",
        "source_files",
    } <= materialised
    evaluations = [
        e.event_specific_data
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
    ]
    assert len(evaluations) >= 15
    assert all(e.passed for e in evaluations), [e.check_name for e in evaluations if not e.passed]


def test_the_checks_of_one_steps_tables_run_as_one_step(seed_run):
    """18 checks, each with its own result, in two steps: the parse step's tables' and the
    corpus step's (a step per check would cost a task or a pod each on Celery or Kubernetes)."""
    result = seed_run["result"]
    evaluations = [e for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"]
    by_step: dict[str, set[str]] = {}
    for e in evaluations:
        data = e.event_specific_data
        by_step.setdefault(e.step_key, set()).add(
            f"{data.asset_key.to_user_string()}.{data.check_name}"
        )
    assert set(by_step) == {"parse_checks", "corpus_checks"}
    assert sum(len(v) for v in by_step.values()) == len(evaluations) == 18
    assert "sentences.offsets_give_span_text" in by_step["parse_checks"]
    assert "entities.entity_mentions_entity_id_resolves" in by_step["corpus_checks"]


def test_materialisations_carry_row_counts_and_schemas(seed_run):
    result = seed_run["result"]
    for event in result.get_asset_materialization_events():
        key = event.asset_key.to_user_string()
        metadata = event.materialization.metadata
        assert "dagster/row_count" in metadata, key
        if key in SCHEMAS:
            schema = metadata["dagster/column_schema"].schema
            assert [c.name for c in schema.columns] == SCHEMAS[key].names


def test_warehouse_keeps_the_contract(seed_run):
    with duckdb.connect(str(seed_run["warehouse"]), read_only=True) as con:
        for table, columns in CONTRACT_COLUMNS.items():
            present = [r[0] for r in con.execute(f"describe {table}").fetchall()]
            assert set(columns.split()) <= set(present), table
        assert con.execute("select count(*) from documents").fetchone()[0] == 1
        # offsets give the spans, in DuckDB's own terms (1-based substr)
        for table in ("sentences", "entity_mentions", "claims"):
            bad = con.execute(
                f"select count(*) from {table} t join documents d using (doc_id) "
                "where substr(d.text, t.char_start + 1, t.char_end - t.char_start) <> t.text"
            ).fetchone()[0]
            assert bad == 0, table
        speakers = con.execute(
            "select speaker from claims where speaker_text = 'he' and claim_type = 'direct_quote'"
        ).fetchall()
        assert speakers == [("Franz-Stefan Gady",)]
        pinned = (
            "select quantity_value, quantity_value_to, quantity_unit, quantity_change,"
            " quantity_concept, quantity_si_value, quantity_si_unit, quantity_currency"
            " from claims where claim_type = 'quantity' and text = ?"
        )
        convoy = con.execute(pinned, ["40 mile"]).fetchall()
        assert convoy == [(40.0, None, "mile", "=", "convoy", 64373.76, "metre", None)]
        men = con.execute(pinned, ["1.5 million men"]).fetchall()
        assert men == [(1_500_000.0, None, "man", "=", None, None, None, None)]
        soldiers = con.execute(pinned, ["16 soldiers"]).fetchall()
        assert soldiers == [(16.0, None, "soldier", "~", None, None, None, None)]
        assert (
            con.execute(
                "select count(*) from claims c join sentences s using (sentence_id) "
                "where s.is_boilerplate"
            ).fetchone()[0]
            == 0
        )
        views = {
            r[0]
            for r in con.execute(
                "select view_name from duckdb_views() where not internal"
            ).fetchall()
        }
        assert {
            "top_entities",
            "quotes_by_speaker",
            "claims_per_document",
            "entity_cooccurrence",
            "entity_mentions_daily",
            "quotes_by_publisher",
            "attributed_quantities",
        } <= views
        daily = [r[0] for r in con.execute("describe entity_mentions_daily").fetchall()]
        assert daily == [
            *("day", "entity_id", "name", "label"),
            *("n_mentions", "n_documents", "n_stories"),
        ]
        by_publisher = [r[0] for r in con.execute("describe quotes_by_publisher").fetchall()]
        assert by_publisher == [
            *("publisher", "speaker", "speaker_entity_id", "n_quotes"),
            *("first_published_at", "last_published_at"),
        ]


def test_lake_tables_are_readable_by_any_delta_reader(seed_run):
    """The contract's ways into the lake: Polars' Delta reader, and DuckDB over the files the
    table's log lists (not a glob of the folder)."""
    lake = Lake(str(seed_run["data"] / "lake"))
    for table in CONTRACT_COLUMNS:
        uri = str(seed_run["data"] / "lake" / table)
        files = lake.files(table)
        n_duckdb = (
            duckdb.execute(f"select count(*) from read_parquet({files!r})").fetchone()[0]
            if files
            else 0
        )
        n_polars = pl.read_delta(uri).height if lake.exists(table) else 0
        assert n_duckdb == n_polars == lake.read(table).height
        assert n_polars > 0 or table in ("rejected_files", "file_warnings")
    frame = pl.read_delta(str(seed_run["data"] / "lake" / "claims"))
    assert frame.schema["quantity_value"] == pl.Float64


def test_columns_carry_the_contracts_descriptions_in_dagster_and_duckdb(seed_run):
    """One source of column descriptions: the asset's column schema in the UI, and DuckDB's
    `COMMENT ON COLUMN` (listed by `duckdb_columns()`)."""
    from pipelines.core.tables import DESCRIPTIONS

    for event in seed_run["result"].get_asset_materialization_events():
        record = event.materialization
        schema = record.metadata.get("dagster/column_schema")
        if schema is None:
            continue
        for column in schema.schema.columns:
            assert column.description, (record.asset_key, column.name)
    with duckdb.connect(str(seed_run["warehouse"]), read_only=True) as con:
        comments = {
            (t, c): d
            for t, c, d in con.execute(
                "select table_name, column_name, comment from duckdb_columns() "
                "where schema_name = 'main' and table_name in ('documents', 'claims')"
            ).fetchall()
        }
    assert comments[("documents", "ingested_at")] == DESCRIPTIONS["documents"]["ingested_at"]
    assert "quoted words" in comments[("claims", "text")]
    assert all(comments.values())
