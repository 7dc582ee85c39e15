"""`python -m ci <stage>`: see ci.cli."""

from ci.cli import main

raise SystemExit(main())
