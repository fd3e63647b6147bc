"""``python -m bench``: run every benchmark section, print the table, write bench/results.json."""

from bench.run import main

main()
