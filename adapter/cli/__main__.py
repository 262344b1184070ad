"""`python -m adapter.cli`: the same command as the `mds-adapter` script."""

from adapter.cli import main

main()
