"""medseg_gui: annotate lesions and vessels, retrain a Keras U-Net on your own labels, review and export."""

__version__ = "0.1.0"
