"""Every test (and every `relance` process a test starts) reads the bundled rate tables, never a
folder of this machine's user (~/.local/share/relance/taux): RELANCE_RATES_DIR points to an empty
temporary folder unless a test sets its own."""

import os
import tempfile

os.environ["RELANCE_RATES_DIR"] = os.path.join(tempfile.mkdtemp(prefix="relance-test-rates-"), "none")
