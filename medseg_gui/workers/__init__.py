"""QObject workers run on QThreads; they emit typed signals and never touch widgets."""
