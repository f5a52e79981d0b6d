# The sparkjobs server image, for deploy/kubernetes and deploy/openshift.
# With the kubernetes backend the server only talks to the Kubernetes API:
# Spark runs in the runs' own image, so no pyspark or Java here.
#   docker build -t sparkjobs:dev .
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip install . \
    && useradd --uid 10001 --gid 0 --home-dir /var/lib/sparkjobs --no-create-home sparkjobs \
    && mkdir -p /var/lib/sparkjobs \
    && chown 10001:0 /var/lib/sparkjobs \
    && chmod g=u /var/lib/sparkjobs

# Numeric, so runAsNonRoot can verify it; group 0 so OpenShift's random UID can write.
USER 10001
ENV SPARKJOBS_HOST=0.0.0.0 \
    SPARKJOBS_PORT=8080 \
    SPARKJOBS_DATA_DIR=/var/lib/sparkjobs \
    HOME=/var/lib/sparkjobs
EXPOSE 8080
CMD ["sparkjobs", "serve"]
