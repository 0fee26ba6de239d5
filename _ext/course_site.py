"""Sphinx extension of the course book: loads its four parts, each in a module of its own.

* ``launch_links``   -- Colab and Binder buttons open the generated .ipynb copies;
* ``provenance``     -- per-page Provenance boxes and the status page, from the run records;
* ``offline_assets`` -- one copy of each script, widget fonts and favicon for offline pages;
* ``workshop``       -- the instructor guide's schedules and run-time tables.

It also sets ``DLPS_BOOK_BUILD`` for the notebook kernels that the build starts, so that
``dlps.glue`` hands values to MyST-NB there (and prints them everywhere else).
"""

from __future__ import annotations

import os

import launch_links
import offline_assets
import provenance
import workshop

BOOK_BUILD_ENV = "DLPS_BOOK_BUILD"   # the same name as dlps.BOOK_BUILD_ENV


def setup(app):
    os.environ[BOOK_BUILD_ENV] = "1"
    for part in (launch_links, provenance, offline_assets, workshop):
        part.setup(app)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
