# One image for every Jama Jama process: the gateway, the registry and the five OPD subgraphs.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

COPY pyproject.toml README.md ./
COPY gateway ./gateway
COPY subgraphs ./subgraphs
RUN pip install . && useradd --system --home /app jamajama && mkdir -p /app/var \
    && chown jamajama /app/var
COPY schema ./schema
COPY deploy ./deploy

USER jamajama
EXPOSE 4000
CMD ["jamajama", "gateway", "--config", "/app/deploy/gateway.toml"]
