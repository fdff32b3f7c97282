"""Tocsin's notice templates: data (one folder per template, `template.yaml` + per-locale Jinja2
files), and the pure core that loads, validates and renders them in a sandbox.

- `loader`: find, compile and validate templates (`load_template`, `check_folder`)
- `render`: `prepare_variables`, `render` (subject/text/html + SHA-256), `choose_locale`
- `context`: template variables from an incident, its facts and its people
"""
