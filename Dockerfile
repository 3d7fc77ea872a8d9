# alm-bot in a container: `alm-bot serve` on port 8000 — Slack (POST /slack/events or Socket Mode),
# MCP over streamable HTTP (/mcp), the watcher, and GET /healthz — with its SQLite file in /data.
#
#   docker build -t alm-bot .
#   docker run -d -p 8000:8000 -v alm-bot-data:/data --env-file alm-bot.env alm-bot
#
# The CMD binds 0.0.0.0, so ALM_BOT_MCP_TOKENS must be set: without bearer tokens `alm-bot serve`
# refuses to serve MCP on a non-loopback address and exits 1 saying so. Secrets come in only as
# environment variables (see README.md, "Configuration"); none is baked into the image.
# Other commands: `docker run --rm --env-file alm-bot.env -v alm-bot-data:/data alm-bot check`.

FROM python:3.11.14-slim-bookworm AS build

ENV UV_COMPILE_BYTECODE=1 \
    UV_NO_CACHE=1 \
    UV_PYTHON_DOWNLOADS=never

# uv from PyPI, pinned; it only builds the virtual environment and stays in this stage.
RUN pip install --no-cache-dir --disable-pip-version-check uv==0.13.9 \
    && uv venv --python /usr/local/bin/python3.11 /opt/alm-bot

WORKDIR /src

# The dependencies first (their own layer): exactly the pins of requirements.lock, every file
# checked against its sha256 (tools/lock.sh regenerates the lock).
COPY requirements.lock ./
RUN uv pip sync --python /opt/alm-bot/bin/python --require-hashes requirements.lock

# Then alm-bot itself, without resolving anything again.
COPY pyproject.toml README.md LICENSE ./
COPY alm_bot ./alm_bot
RUN uv pip install --python /opt/alm-bot/bin/python --no-deps .


FROM python:3.11.14-slim-bookworm

ENV PATH=/opt/alm-bot/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    ALM_BOT_DATABASE_URL=sqlite:////data/alm-bot.db

RUN useradd --system --no-log-init --user-group --uid 10001 --home-dir /data --no-create-home alm-bot \
    && mkdir /data \
    && chown alm-bot:alm-bot /data

COPY --from=build /opt/alm-bot /opt/alm-bot

USER 10001:10001
WORKDIR /data
# The SQLite database (alm-bot.db with its -wal/-shm files). For several replicas use PostgreSQL:
# set ALM_BOT_DATABASE_URL=postgresql://user@host/db and the volume is not needed.
VOLUME ["/data"]
EXPOSE 8000

# /healthz answers 200 when the database, the Anaplan login and the watcher are all well, else 503.
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=8)"]

ENTRYPOINT ["alm-bot"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
