# The application image: one image for web, worker and beat (docker-compose.yml picks the command).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN apt-get update \
    && apt-get install -y --no-install-recommends gettext curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 10001 cxm

WORKDIR /app
COPY pyproject.toml README.md ./
COPY cxm ./cxm
COPY accounts ./accounts
COPY channels_app ./channels_app
COPY profiles ./profiles
COPY tickets ./tickets
COPY surveys ./surveys
COPY analytics ./analytics
RUN pip install .
COPY . .
# Static files are collected at build time with throwaway settings; nothing secret is baked in.
RUN CXM_ENV=production DEBUG=false SECRET_KEY=build-time-only-not-used-at-run-time-0123456789abcdef \
    ALLOWED_HOSTS=build PUBLIC_BASE_URL=http://build DATABASE_URL=postgres://build@build/build \
    REDIS_URL=redis://build:6379/0 python manage.py collectstatic --noinput \
    && mkdir -p /app/var/media && chown -R cxm:cxm /app/var

USER cxm
EXPOSE 8000
CMD ["uvicorn", "cxm.asgi:application", "--host", "0.0.0.0", "--port", "8000", "--workers", "2", "--proxy-headers"]
