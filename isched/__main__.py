"""``python -m isched``: the command line."""

from isched.cli import main

main()
