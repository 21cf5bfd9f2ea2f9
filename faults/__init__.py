"""`make faults`: the tests that break things for real (docs/reliability.md). Not collected by `make test`."""
