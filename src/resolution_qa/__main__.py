"""`python -m resolution_qa` is the `resolution-qa` command."""

from resolution_qa.cli import main

main()
