"""Data model and image logic: numpy, scikit-image and OpenCV only (no Qt, no Keras)."""
