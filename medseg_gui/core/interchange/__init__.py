"""Interchange with other tools: nnU-Net v2 datasets, COCO instance JSON, labelme JSON import, and the manifest that
every export writes (which mask is a human label, which a model prediction). numpy/OpenCV only, no Qt."""
