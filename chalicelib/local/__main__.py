"""`python -m chalicelib.local`: the same as the `kms-local` console script."""

from chalicelib.local.cli import main

main()
