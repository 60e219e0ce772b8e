"""Data the project carries (public latency measurements, SR test images, their provenance and
licences), installed as the package ``codesign_data``; read it through
``codesign_common.public_data``, never by a path of its own."""
