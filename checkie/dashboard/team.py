from flask import Blueprint

bp = Blueprint("team", __name__)
