"""`python -m medseg_gui` opens the GUI."""

from medseg_gui.app import main

raise SystemExit(main())
