"""`python -m tensorflow_lnrnn.migrate OLD NEW.keras`: the `lnrnn-migrate` command.

A `__main__` module of its own, so that running the command does not import
`tensorflow_lnrnn.migrate` twice (which made Python warn).
"""

import sys

from tensorflow_lnrnn.migrate import main

sys.exit(main())
