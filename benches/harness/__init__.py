"""The benchmark harness behind benches/run.py: peers, the loadforge side, the report."""
