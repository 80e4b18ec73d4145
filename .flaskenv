# What the flask command loads: the app, or a bad setting in one line (app/cli.py).
FLASK_APP=app.cli:app_for_the_command_line
