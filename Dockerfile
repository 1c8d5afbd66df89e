# Production image: gunicorn serving wsgi:app. The same image runs the Huey worker
# (docker-compose.yml overrides the command). Build: docker build -t checkie .
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    CHECKIE_ENV=production \
    CHECKIE_INSTANCE_PATH=/app/instance \
    PROMETHEUS_MULTIPROC_DIR=/tmp/prometheus \
    FLASK_APP=wsgi

WORKDIR /app

# Dependencies first, so a code change does not reinstall them. Every pinned package ships a
# manylinux wheel (psycopg[binary] included), so no compiler is needed.
COPY requirements.txt .
RUN pip install -r requirements.txt

RUN useradd --system --create-home --uid 10001 --user-group checkie
# Code stays owned by root (read-only for the app); only the instance folder is writable.
COPY . .
RUN mkdir -p /app/instance /tmp/prometheus && chown checkie:checkie /app/instance /tmp/prometheus

USER checkie
EXPOSE 8000

# Health: GET /healthz (process up) and /readyz (database and Redis); docker-compose.yml probes them.
CMD ["gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"]
