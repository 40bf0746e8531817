"""``python -m minitf.saved_model show --dir DIR --all``: inspect a SavedModel."""

from . import main

raise SystemExit(main())
