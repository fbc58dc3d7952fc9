"""Contract tools: check the mock against a real store.

`record` copies a store's orders into fixture documents, `verify` asks the store and the mock the
same read-only questions and compares the answers, `proxy` forwards a platform's traffic to the
real API and reports where requests or responses break the spec. Every request that leaves for a
store goes through `http` (the one place that decides what may be sent).
"""
