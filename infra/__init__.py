"""Everything that is not a Lambda: the local runtime, bootstrap/admin tooling, deploy helpers."""
