# The bot's services: one image, one `botctl` entry point per service.
FROM python:3.11-slim AS base
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
# render_latex's TeX engine (LaTeX base + dvipng, no shell escape at run time); without it
# the tool answers that LaTeX is not available
RUN apt-get update \
    && apt-get install -y --no-install-recommends texlive-latex-base dvipng \
    && rm -rf /var/lib/apt/lists/*
COPY pyproject.toml README.md ./
COPY actors ./actors
COPY events ./events
COPY projections ./projections
COPY infra ./infra
RUN pip install --no-cache-dir . && useradd --system --uid 10001 bot
USER bot
EXPOSE 8080 9100
ENTRYPOINT ["botctl"]
CMD ["--help"]
