FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    GRADIO_ANALYTICS_ENABLED=False \
    PIKA_DATA_DIR=/data

RUN useradd --create-home --uid 1000 app && mkdir /data && chown app /data
WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt
# For replicas sharing a PostgreSQL history (PIKA_DATABASE_URL); unused otherwise.
RUN pip install "psycopg[binary,pool]>=3.2"
COPY app.py ./
COPY playground playground
COPY ui ui
COPY presets presets

USER app
VOLUME /data
EXPOSE 7860
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:7860/', timeout=4)"
# Exec form: Python itself is PID 1 and gets `docker stop`'s SIGTERM (a shell would take it
# and pass nothing on). The app handles SIGTERM (PID 1 has no default action for it) and
# stops in under a second; it starts no child processes, so it needs no init to reap them.
CMD ["python", "app.py", "--host", "0.0.0.0", "--port", "7860"]
