# Clearance: one image for the API, the workers and beat (docker-compose.yml picks the
# command). CPU torch from the PyTorch CPU index, pinned exactly (an open range pulls a
# multi-GB CUDA build).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    DO_NOT_TRACK=1 \
    TOKENIZERS_PARALLELISM=false \
    CLEARANCE_DATA_DIR=/data

RUN apt-get update \
    && apt-get install -y --no-install-recommends curl libmagic1 \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
RUN pip install --index-url https://download.pytorch.org/whl/cpu torch==2.13.0

COPY pyproject.toml README.md alembic.ini ./
COPY core ./core
COPY ingest ./ingest
COPY index ./index
COPY retrieval ./retrieval
COPY answer ./answer
COPY acl ./acl
COPY api ./api
COPY workers ./workers
RUN pip install . "cryptography==50.0.2"

RUN useradd --create-home --uid 10001 clearance && mkdir -p /data \
    && chown clearance /data
USER clearance
VOLUME ["/data"]
EXPOSE 8000

CMD ["clearance", "serve", "--host", "0.0.0.0", "--port", "8000"]
