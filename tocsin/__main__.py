"""`python -m tocsin` is the same as the `tocsin` command."""

from tocsin.cli import main

main()
