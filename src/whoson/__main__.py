"""``python -m whoson`` runs the command line."""

from whoson.cli.main import main

raise SystemExit(main())
