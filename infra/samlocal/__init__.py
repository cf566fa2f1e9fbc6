"""`make sam-local`: the functions under `sam local start-api` (Docker), AWS still emulated
by the local runtime's moto.

The local runtime (`infra.local`) is started as it is for `make dev`, with its moto server
listening where containers can reach it; this package only adds what `sam local` needs on
top: the `--env-vars` file that points every function at that moto (`envvars`) and the
`sam build` / `sam local start-api` commands (`__main__`). docs/local.md compares the two.
"""
