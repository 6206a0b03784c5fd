# One image for every Jama Jama process: the gateway, the registry and the five OPD subgraphs.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

# Extras to install besides the runtime: the production gateway needs none; the demo subgraphs
# (docker-compose.yml) need `demo`, the data generator.
ARG EXTRAS=""

COPY pyproject.toml README.md constraints.txt ./
COPY gateway ./gateway
COPY subgraphs ./subgraphs
# constraints.txt pins every version (`make lock`): the image gets what CI tested.
RUN pip install --constraint constraints.txt ".${EXTRAS:+[$EXTRAS]}" \
    && useradd --system --home /app jamajama && mkdir -p /app/var && chown jamajama /app/var
COPY schema ./schema
COPY deploy ./deploy

USER jamajama
EXPOSE 4000
CMD ["jamajama", "gateway", "--config", "/app/deploy/gateway.toml"]
