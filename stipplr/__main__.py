"""``python -m stipplr``: the same command line as the ``stipplr`` script."""

from stipplr.cli import main

main()
