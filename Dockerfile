# syntax=docker/dockerfile:1
# Build: make docker-build IMG=<registry>/litellm-operator:<tag>

# The builder turns the project and its runtime dependencies into wheels, so
# the final stage needs neither the source tree nor a compiler.
FROM python:3.11-slim AS builder

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1

WORKDIR /src
COPY . .
RUN pip wheel --wheel-dir /wheels .


# The runtime image holds Python, the operator and its runtime dependencies,
# installed from the builder's wheels without any index.
FROM python:3.11-slim

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1

RUN --mount=type=bind,from=builder,source=/wheels,target=/wheels \
    pip install --no-index --find-links=/wheels litellm-operator \
    && pip uninstall --yes setuptools wheel

# 65532 is the "nonroot" UID of distroless images. A numeric UID lets the
# kubelet verify runAsNonRoot without reading /etc/passwd.
USER 65532:65532

ENTRYPOINT ["litellm-operator"]
