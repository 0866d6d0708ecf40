"""`python -m relance_erpnext.cli`."""

import sys

from relance_erpnext.cli import main

sys.exit(main())
