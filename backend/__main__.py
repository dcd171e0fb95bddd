"""Allow ``python -m backend`` as an alias of the ``jobdash`` command."""

from backend.cli import main

raise SystemExit(main())
