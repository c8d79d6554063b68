"""The applications: the ``isched`` command line and the coordinator's web app.

The top layer: the only package that may import every other one
(``scheduler`` < ``envs`` < ``policies`` < ``experiments`` < ``isched``).
"""
