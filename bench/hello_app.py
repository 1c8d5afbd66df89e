"""The baseline of SPEC §12: a bare Flask + Jinja page, served by `bench/run` under exactly the
gunicorn settings of the checkout (`gunicorn -c gunicorn.conf.py bench.hello_app:app`).

Nothing of Checkie: no database, no session cookie, no extensions; one small template.
"""
from pathlib import Path

from flask import Flask, render_template

app = Flask(__name__, template_folder=str(Path(__file__).with_name("templates")))

ITEMS = [("Size", "M"), ("Color", "Blue"), ("Quantity", "1")]


@app.get("/")
def hello():
    return render_template("hello.html", title="Hello", items=ITEMS)
