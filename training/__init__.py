"""AttriCam training: CelebA reading, face caching, losses, metrics, calibration and the trainer.

Imports ``engine`` (model, detector, aligner, attribute table); never imported by ``engine``
and never imports Qt.
"""
