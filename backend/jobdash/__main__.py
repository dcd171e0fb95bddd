"""Allow ``python -m jobdash`` as an alias of the ``jobdash`` command."""

from jobdash.cli.main import main

raise SystemExit(main())
