from flask import Blueprint

bp = Blueprint("api_keys", __name__)
