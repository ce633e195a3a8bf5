# syntax=docker/dockerfile:1
# Build stage: a virtualenv with Attest and its dependencies (CPU-only torch).
FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/attest
WORKDIR /src
COPY pyproject.toml README.md ./
COPY reviews reviews
COPY embedding embedding
COPY mailer mailer
COPY widgets widgets
COPY migrations migrations
RUN /opt/attest/bin/pip install --index-url https://download.pytorch.org/whl/cpu torch==2.13.0 \
 && /opt/attest/bin/pip install .

# Runtime stage: no compilers, no source tree, an unprivileged user.
FROM python:3.11-slim-bookworm
ENV PATH=/opt/attest/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    HF_HUB_OFFLINE=1 \
    ATTEST_HOST=0.0.0.0 \
    ATTEST_PORT=8000 \
    ATTEST_DATA_DIR=/var/lib/attest
RUN useradd --system --uid 10001 --home-dir /var/lib/attest --create-home attest
COPY --from=build /opt/attest /opt/attest
USER attest
WORKDIR /var/lib/attest
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status == 200 else 1)"
# Migrations are a separate, deliberate step: `docker run IMAGE attest migrate`.
CMD ["attest", "web"]
