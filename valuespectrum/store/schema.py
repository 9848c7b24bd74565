"""The workspace's tables: DDL constants, one statement per table (run once per Store)."""

from __future__ import annotations

from typing import Any

DB_NAME = "valuespectrum.duckdb"

# One score set per (probe run, scoring settings): jobs that score the same answers with another
# bootstrap seed, probe.n_boot or scoring.hedonism_in keep their own rows.
SCORES_DDL = """CREATE TABLE IF NOT EXISTS {table} (
    probe_run VARCHAR NOT NULL,
    scoring_key VARCHAR NOT NULL,   -- content_id of the scoring settings; 'legacy': see migrate
    scoring VARCHAR,                -- JSON: those settings (NULL for legacy rows)
    model VARCHAR NOT NULL,
    value VARCHAR NOT NULL,
    higher_order VARCHAR,
    score DOUBLE, ci_low DOUBLE, ci_high DOUBLE, score_answered DOUBLE,
    centred DOUBLE, centred_ci_low DOUBLE, centred_ci_high DOUBLE,
    n INTEGER, n_images INTEGER, n_yes INTEGER, n_no INTEGER, n_refusal INTEGER,
    n_invalid INTEGER, n_error INTEGER,
    refusal_rate DOUBLE, invalid_rate DOUBLE, error_rate DOUBLE,
    PRIMARY KEY (probe_run, scoring_key, value)
)"""

# Score columns added after the table was first shipped, appended in this order by ALTER TABLE
# (so fresh, upgraded and migrated tables all have the same column order); NULL in older rows.
SCORES_ADDED: tuple[tuple[str, str], ...] = (
    ("ci_method", "VARCHAR"),            # two_stage | images (NULL: the old within-keyword one)
    ("noise_se", "DOUBLE"),              # binomial standard error of the score, points
    ("score_logprob", "DOUBLE"),         # 100 x mean p(yes)/(p(yes)+p(no)), where logprobs exist
    ("score_logprob_ci_low", "DOUBLE"),
    ("score_logprob_ci_high", "DOUBLE"),
    ("n_logprob", "INTEGER"),
    ("flip_rate", "DOUBLE"),             # share of multi-sample images whose samples disagree
    ("keyword_driver", "VARCHAR"),       # the flagged keyword that moves the value most
    ("keyword_shift", "DOUBLE"),         # the largest leave-one-keyword-out change, points
    ("n_no_image", "INTEGER"),           # replies that never saw the image (not scored)
    ("no_image_rate", "DOUBLE"),
    ("true_score", "DOUBLE"),            # a simulated respondent's expected score; NULL otherwise
    # The robustness axes' checks (probe/checks.py), NaN where the axis was not run.
    ("reverse_yes_rate", "DOUBLE"),      # yes% of the reverse-keyed question, clear answers
    ("acquiescence", "DOUBLE"),          # yes% forward + yes% reverse - 100 (0 = consistent)
    ("acquiescence_ci_low", "DOUBLE"),
    ("acquiescence_ci_high", "DOUBLE"),
    ("order_effect", "DOUBLE"),          # yes% yes named first - yes% no named first
    ("order_effect_ci_low", "DOUBLE"),
    ("order_effect_ci_high", "DOUBLE"),
)


# One row per (retrieved image, sample, keying); keying and answer_order came with the
# robustness axes (a table from before them is rebuilt by ``migrate``, its rows forward-keyed).
ANSWERS_DDL = """CREATE TABLE IF NOT EXISTS {table} (
    probe_run VARCHAR NOT NULL,
    value VARCHAR NOT NULL,
    keyword VARCHAR NOT NULL,
    rank INTEGER NOT NULL,
    sample INTEGER NOT NULL,
    screenshot_id BIGINT NOT NULL,
    fingerprint VARCHAR NOT NULL,   -- the decision call
    outcome VARCHAR NOT NULL,       -- as scored: yes|no|refusal|invalid|no_image|error
    parse_reason VARCHAR NOT NULL,  -- the rule that fired (probe/parsing.py)
    why_fingerprint VARCHAR,
    rule_outcome VARCHAR,           -- the strict rules' verdict, whatever the score used
    judge_outcome VARCHAR,          -- the judge model's verdict, where it was asked
    judge_fingerprint VARCHAR,      -- its call in responses
    decided_by VARCHAR,             -- rules | prototype | judge | call (a failed call)
    answer_order VARCHAR,           -- yes_first (as worded) | no_first; NULL in older rows
    keying VARCHAR NOT NULL DEFAULT 'forward',  -- forward | reverse ("yes" = scroll past)
    PRIMARY KEY (probe_run, value, keyword, rank, sample, keying)
)"""


def added_score_columns(table: str) -> tuple[str, ...]:
    return tuple(
        f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {name} {kind}" for name, kind in SCORES_ADDED
    )


DDL: tuple[str, ...] = (
    """CREATE TABLE IF NOT EXISTS screenshots (
        id BIGINT PRIMARY KEY,          -- first 60 bits of sha256: the key in every vector index
        sha256 VARCHAR NOT NULL UNIQUE, -- of the original file bytes
        file_path VARCHAR NOT NULL,     -- normalised RGB PNG inside the workspace
        source_path VARCHAR,
        width INTEGER NOT NULL,
        height INTEGER NOT NULL,
        platform VARCHAR,
        url VARCHAR,
        caption VARCHAR,
        author VARCHAR,
        hashtags VARCHAR[],
        collected_at TIMESTAMPTZ,
        source VARCHAR NOT NULL,        -- demo | folder | browser:<platform>
        theme VARCHAR,                  -- demo-only ground truth (a value id)
        notes VARCHAR,
        ingested_at TIMESTAMPTZ NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS rejected_inputs (
        source_path VARCHAR NOT NULL,
        reason VARCHAR NOT NULL,
        source VARCHAR NOT NULL,
        seen_at TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (source_path, reason)
    )""",
    """CREATE TABLE IF NOT EXISTS embeddings (
        screenshot_id BIGINT NOT NULL,
        embedder VARCHAR NOT NULL,      -- model tag, e.g. ViT-B-32@laion2b_s34b_b79k
        kind VARCHAR NOT NULL,          -- image | caption
        index_file VARCHAR NOT NULL,
        dim INTEGER NOT NULL,
        embedded_at TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (screenshot_id, embedder, kind)
    )""",
    """CREATE TABLE IF NOT EXISTS retrievals (
        run_id VARCHAR NOT NULL,        -- content hash of everything that decides the result
        value VARCHAR NOT NULL,
        keyword VARCHAR NOT NULL,
        rank INTEGER NOT NULL,
        screenshot_id BIGINT NOT NULL,
        score DOUBLE NOT NULL,          -- fused similarity used for ranking
        image_score DOUBLE NOT NULL,
        caption_score DOUBLE,
        caption_weight DOUBLE NOT NULL,
        embedder VARCHAR NOT NULL,
        caption_encoder VARCHAR,
        index_fingerprint VARCHAR NOT NULL,
        keywords_name VARCHAR NOT NULL,
        query VARCHAR NOT NULL,
        created_at TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (run_id, value, keyword, rank)
    )""",
    # The response cache: one row per successful call, keyed by the request fingerprint (model
    # identity, messages with image hashes, generation params, prompt version, sample). Failed
    # calls are never cached; they go to call_errors.
    """CREATE TABLE IF NOT EXISTS responses (
        fingerprint VARCHAR PRIMARY KEY,
        model VARCHAR NOT NULL,
        kind VARCHAR NOT NULL,          -- decision | why | describe
        image_sha256 VARCHAR NOT NULL,  -- of the encoded image sent
        prompt_version VARCHAR NOT NULL,
        request VARCHAR NOT NULL,       -- JSON: model, messages (images by hash), params
        text VARCHAR NOT NULL,
        latency_s DOUBLE,
        input_tokens INTEGER,
        output_tokens INTEGER,
        cost_usd DOUBLE,
        yes_logprob DOUBLE,
        no_logprob DOUBLE,
        model_version VARCHAR,
        attempts INTEGER,
        created_at TIMESTAMPTZ NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS call_errors (
        fingerprint VARCHAR NOT NULL,
        model VARCHAR NOT NULL,
        kind VARCHAR NOT NULL,
        error_kind VARCHAR NOT NULL,
        status INTEGER,
        message VARCHAR,
        attempts INTEGER,
        created_at TIMESTAMPTZ NOT NULL
    )""",
    # Workspaces made before call_errors.retryable existed get it here (NULL for old rows).
    "ALTER TABLE call_errors ADD COLUMN IF NOT EXISTS retryable BOOLEAN",
    ANSWERS_DDL.format(table="answers"),
    # Workspaces made before the judge and parsing modes existed get their columns here.
    *(f"ALTER TABLE answers ADD COLUMN IF NOT EXISTS {c} VARCHAR"
      for c in ("rule_outcome", "judge_outcome", "judge_fingerprint", "decided_by")),
    """CREATE TABLE IF NOT EXISTS probe_runs (
        probe_run VARCHAR PRIMARY KEY,
        model VARCHAR NOT NULL,
        model_label VARCHAR NOT NULL,
        simulated BOOLEAN NOT NULL,
        retrieval_run VARCHAR NOT NULL,
        prompt_version VARCHAR NOT NULL,
        settings VARCHAR NOT NULL,      -- JSON: model fingerprint, params, samples
        created_at TIMESTAMPTZ NOT NULL
    )""",
    SCORES_DDL.format(table="scores"),
    *added_score_columns("scores"),
    # One row per keyword of a score set: its score, interval and how far its value moves
    # without it (scoring.KEYWORD_COLUMNS).
    """CREATE TABLE IF NOT EXISTS keyword_scores (
        probe_run VARCHAR NOT NULL,
        scoring_key VARCHAR NOT NULL,
        model VARCHAR NOT NULL,
        value VARCHAR NOT NULL,
        keyword VARCHAR NOT NULL,
        n INTEGER, n_images INTEGER, n_yes INTEGER,
        score DOUBLE, ci_low DOUBLE, ci_high DOUBLE,
        loo_shift DOUBLE,               -- value's score without this keyword, minus with it
        driver BOOLEAN,                 -- flagged as driving its value
        PRIMARY KEY (probe_run, scoring_key, value, keyword)
    )""",
    # Role-play induction: one row per session (a persona scrolling one feed under one
    # condition), its impressions in order. A session id hashes everything that decides its
    # impressions except their number, so a longer session extends a shorter one.
    """CREATE TABLE IF NOT EXISTS sessions (
        session_id VARCHAR PRIMARY KEY,
        condition VARCHAR NOT NULL,     -- adaptive | control (the recommender kind random)
        persona_id VARCHAR NOT NULL,
        favours VARCHAR[] NOT NULL,     -- the values the persona is written to favour (ours)
        session_index INTEGER NOT NULL,
        model VARCHAR NOT NULL,
        strategy VARCHAR NOT NULL,
        strategy_version VARCHAR NOT NULL,
        threshold DOUBLE,               -- ISQ stay threshold (S% > threshold)
        recommender VARCHAR NOT NULL,   -- its kind
        recommender_settings VARCHAR NOT NULL,  -- JSON
        platform VARCHAR NOT NULL,
        driver VARCHAR NOT NULL,        -- direct | browser
        seed BIGINT NOT NULL,           -- the recommender's
        catalog VARCHAR NOT NULL,       -- fingerprint of the items and their vectors
        stay_ms INTEGER NOT NULL,
        skip_ms INTEGER NOT NULL,
        videos INTEGER NOT NULL,        -- impressions asked for by the last run
        status VARCHAR NOT NULL,        -- running | complete | failed (a call without answer)
        failed_steps INTEGER NOT NULL,  -- calls that ended without an answer, over all runs
        error VARCHAR,                  -- the last failed call's cause
        settings VARCHAR NOT NULL,      -- JSON: model fingerprint and the rest of the identity
        created_at TIMESTAMPTZ NOT NULL,
        updated_at TIMESTAMPTZ NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS impressions (
        session_id VARCHAR NOT NULL,
        position INTEGER NOT NULL,
        item_id BIGINT NOT NULL,        -- screenshots.id
        outcome VARCHAR NOT NULL,       -- yes | no | invalid (an invalid reply is a skip)
        stayed BOOLEAN NOT NULL,
        score_pct DOUBLE,               -- ISQ S%
        fields VARCHAR NOT NULL,        -- JSON: the parsed reply
        parse_reason VARCHAR NOT NULL,
        dwell_ms INTEGER NOT NULL,      -- what the feed logged
        rec_score DOUBLE,               -- the recommender's score of the item
        explored BOOLEAN NOT NULL,      -- served by the exploration share
        reason VARCHAR,                 -- why the recommender chose it
        item_values VARCHAR[] NOT NULL, -- the item's value labels (measurement only)
        fingerprint VARCHAR NOT NULL,   -- the call (responses.fingerprint)
        created_at TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (session_id, position)
    )""",
)

SCORE_COLUMNS: tuple[str, ...] = (
    "model", "value", "higher_order", "score", "ci_low", "ci_high", "score_answered", "centred",
    "centred_ci_low", "centred_ci_high", "n", "n_images", "n_yes", "n_no", "n_refusal",
    "n_invalid", "n_error", "refusal_rate", "invalid_rate", "error_rate",
    *(name for name, _ in SCORES_ADDED),
)
KEYWORD_COLUMNS: tuple[str, ...] = (
    "model", "value", "keyword", "n", "n_images", "n_yes", "score", "ci_low", "ci_high",
    "loo_shift", "driver",
)

TABLES: tuple[str, ...] = (
    "screenshots", "rejected_inputs", "embeddings", "retrievals", "responses", "call_errors",
    "answers", "probe_runs", "scores", "keyword_scores", "sessions", "impressions",
)
LEGACY_SCORING_KEY = "legacy"


def migrate(con: Any) -> None:
    """Bring tables made by older versions to the current shape (after ``DDL``, once per Store).

    DuckDB cannot change a primary key in place, so a ``scores`` table from before
    ``scoring_key`` is rebuilt in one transaction: its rows are copied with scoring_key
    ``'legacy'`` (the settings that made them were never recorded, so no key can be recomputed)
    and ``scoring`` NULL. A re-run of the probe then adds its own set next to them.
    """
    _migrate_answers(con)
    if "scoring_key" in _columns(con, "scores"):
        return
    _rebuild(con, "scores", (SCORES_DDL.format(table="scores_migrating"),
                             *added_score_columns("scores_migrating")),
             f"SELECT *, '{LEGACY_SCORING_KEY}' AS scoring_key FROM scores")


def _migrate_answers(con: Any) -> None:
    """An ``answers`` table from before the keying axis is rebuilt with keying in its key: its
    rows were all forward-keyed (the only question there was), their answer_order NULL."""
    if "keying" not in _columns(con, "answers"):
        _rebuild(con, "answers", (ANSWERS_DDL.format(table="answers_migrating"),),
                 "SELECT *, 'forward' AS keying FROM answers")


def _columns(con: Any, table: str) -> set[str]:
    return {r[0] for r in con.execute(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_name = ? AND table_schema = current_schema()", [table]).fetchall()}


def _rebuild(con: Any, table: str, create: tuple[str, ...], rows: str) -> None:
    """Replace ``table`` by ``<table>_migrating`` (made by ``create``, filled BY NAME from the
    ``rows`` query) in one transaction: DuckDB cannot change a primary key in place."""
    con.execute("BEGIN TRANSACTION")
    try:
        for statement in create:
            con.execute(statement)
        con.execute(f"INSERT INTO {table}_migrating BY NAME {rows}")
        con.execute(f"DROP TABLE {table}")
        con.execute(f"ALTER TABLE {table}_migrating RENAME TO {table}")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
