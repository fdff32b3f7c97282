"""The web console: server-rendered pages for people who do not use a terminal."""
