"""Role-play induction logic, pure code: personas (``personas``), the Simple and ISQ strategies
with their lenient reply parsing (``strategies``, ``replies``) and the induction metrics
(``metrics``: I, I_avg, net effect, amplification, time to personalisation, diversity).

Imports no store, tracker, stage, mlflow or duckdb (tests/house/test_layout.py checks).
"""
