"""The program's names, each defined once: changing one moves the user's folders, so they stay as they were."""

APP_NAME = "medseg_gui"
"""The per-user folders (platformdirs data and log folders, the settings folder: the QSettings organisation)."""

GUI_NAME = "medseg-gui"
"""The window program: its command, log and settings file names, Qt application and desktop id, project-lock owner."""
